"""The pretraining loop: masked acoustic model, AdamW, checkpoints that resume exactly, DDP.

Resume-exact means a run stopped at a checkpoint and resumed produces bit-identical weights to
a straight run: the checkpoint holds model, optimizer, scheduler, step, the data position
``(epoch, micro-batches consumed)`` and the RNG states (torch, numpy, python, the masking
generator; one set per rank). The data order and crops are functions of (seed, epoch), and the
DataLoader gets its own generator so creating one does not draw from the global RNG.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from aalbert.atomic import remove_stale_temp_files
from aalbert.checkpoint_file import CheckpointError
from aalbert.config import save_config, to_dict
from aalbert.experiment import make_record, write_record
from aalbert.pretrain import checkpoints, rng
from aalbert.pretrain.config import PretrainConfig
from aalbert.pretrain.data import BatchDataset, Corpus, collate_one, epoch_batches, scan_corpus
from aalbert.pretrain.distributed import DistInfo, all_gather_objects, all_reduce_sum
from aalbert.pretrain.loss import l1_loss, scored_frames
from aalbert.pretrain.masking import mask_batch, valid_mask
from aalbert.pretrain.model import MaskedAcousticModel
from aalbert.pretrain.schedule import build_optimizer, build_scheduler
from aalbert.pretrain.span import check_mask_span
from aalbert.upstream.checkpoint import (
    import_encoder_state,
    import_head_state,
    load_checkpoint,
    save_s3prl_checkpoint,
)
from aalbert.upstream.features import FeatureExtractor
from aalbert.upstream.model import TransformerEncoder, build_spec_head, stack_frames


class NonFiniteLossError(RuntimeError):
    """Training hit a NaN/inf loss or gradient; the weights were not updated with it."""


@dataclass
class StepResult:
    loss: float
    grad_norm: float
    lr: float


class Trainer:
    def __init__(self, cfg: PretrainConfig, expdir: str | Path, dist_info: DistInfo | None = None,
                 resume: str | Path | None = None, args: dict | None = None,
                 dump_weights_dir: str | Path | None = None, progress: bool = True, record: dict | None = None):
        """``record``: the experiment record written into ``expdir`` (default: made from ``cfg``)."""
        self.cfg = cfg
        self.record = record if record is not None else make_record("pretrain", to_dict(cfg))
        self.expdir = Path(expdir)
        self.dist = dist_info or DistInfo()
        self.device = self.dist.device
        self.args = dict(args or {})
        self.dump_weights_dir = Path(dump_weights_dir) if dump_weights_dir else None
        self.progress = progress

        # model init is drawn from `seed` on every rank (DDP also broadcasts rank 0's weights);
        # dropout and masking then follow rank-specific streams so ranks see different masks
        rng.seed_everything(cfg.seed)
        self.feature_config = cfg.feature_config()
        self.extractor = FeatureExtractor(self.feature_config).to(self.device)
        self.encoder_config = cfg.encoder_config()
        encoder = TransformerEncoder(self.encoder_config)
        head = build_spec_head(self.encoder_config, self.extractor.target_dim)
        self.model = MaskedAcousticModel(encoder, head).to(self.device)
        if self.dist.enabled:
            rng.seed_everything(cfg.seed + self.dist.rank)
        self.mask_generator = torch.Generator().manual_seed(cfg.seed + self.dist.rank)
        self.optimizer = build_optimizer(self.model, cfg.optim)
        self.scheduler = build_scheduler(self.optimizer, cfg.optim)
        self.ddp = (DistributedDataParallel(self.model, device_ids=[self.device.index] if self.device.type == "cuda"
                                            else None) if self.dist.enabled else self.model)

        self.stacking = self.encoder_config.downsample_rate
        if self.dist.is_main:
            check_mask_span(cfg)  # warns when spans are shorter than a phone (one copy, from rank 0)
        self.max_samples = (cfg.data.max_frames - 1) * self.extractor.hop_length
        min_samples = max(self.extractor.min_samples, self.extractor.hop_length * (self.stacking - 1) + 1)
        with warnings.catch_warnings():
            if not self.dist.is_main:
                warnings.simplefilter("ignore")  # one copy of each skip warning, from rank 0
            self.corpus: Corpus = scan_corpus(cfg.data.roots, min_samples=min_samples)
        self.skipped: list[str] = list(self.corpus.skipped)

        self.step = 0
        self.epoch = 0
        self.position = 0  # micro-batches of the current epoch already consumed
        self.last_checkpoint: Path | None = None
        if resume is not None:
            self._resume(checkpoints.resolve_resume(resume))
        self.writer = None

    # ------------------------------------------------------------------ checkpoints

    def _state_extra(self) -> dict:
        rng_states = all_gather_objects(rng.capture(self.mask_generator), self.dist)
        return {
            "Optimizer": self.optimizer.state_dict(),
            "Scheduler": self.scheduler.state_dict(),
            "Epoch": self.epoch,
            "Position": self.position,
            "World_Size": self.dist.world_size,
            "RNG": rng_states,
            "Skipped_Files": len(self.skipped),
        }

    def save(self) -> Path | None:
        """Checkpoint at the current step (all ranks call it; rank 0 writes)."""
        extra = self._state_extra()  # a collective: every rank takes part
        if not self.dist.is_main:
            return None
        path = checkpoints.checkpoint_path(self.expdir, self.step)
        task = {"mask_proportion": self.cfg.task.mask_proportion,
                "mask_consecutive_min": self.cfg.task.mask_consecutive,
                "mask_consecutive_max": self.cfg.task.mask_consecutive,
                "mask_allow_overlap": False, "sequence_length": self.cfg.data.max_frames, "loss": "L1"}
        save_s3prl_checkpoint(path, self.model.encoder, self.model.head, self.feature_config, self.step,
                              extra=extra, task=task, runner_config=to_dict(self.cfg),
                              args=argparse.Namespace(**self.args))
        checkpoints.prune(self.expdir, self.cfg.log.keep_last, newest=path)
        self.last_checkpoint = path
        return path

    def _resume(self, path: Path) -> None:
        ckpt = load_checkpoint(path)
        for key in ("Transformer", "SpecHead", "Optimizer", "Scheduler", "Epoch", "Position", "RNG"):
            if key not in ckpt:
                raise ValueError(f"checkpoint {path}: no {key!r} entry; it is not a resumable pretraining checkpoint")
        try:
            self.model.encoder.load_state_dict(import_encoder_state(ckpt["Transformer"], self.encoder_config, path))
            self.model.head.load_state_dict(import_head_state(ckpt["SpecHead"], path))
            self.optimizer.load_state_dict(ckpt["Optimizer"])
            self.scheduler.load_state_dict(ckpt["Scheduler"])
        except (RuntimeError, ValueError, KeyError) as err:
            if isinstance(err, CheckpointError):
                raise
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CheckpointError(path, f"does not fit this run's model or optimizer ({first}); resume it with its own "
                                        "config (-e without -c) or start a new experiment") from err
        self.step, self.epoch, self.position = int(ckpt["Step"]), int(ckpt["Epoch"]), int(ckpt["Position"])
        states = ckpt["RNG"]
        if len(states) == self.dist.world_size:
            rng.restore(states[self.dist.rank], self.mask_generator)
        else:
            warnings.warn(f"checkpoint {path} was written by {len(states)} process(es), this run has "
                          f"{self.dist.world_size}: data position restored, RNG streams reseeded (not bit-exact)",
                          stacklevel=2)
            data_world = int(ckpt.get("World_Size", len(states)))
            if data_world != self.dist.world_size:
                # positions count this rank's share of an epoch; a new world size reshards: restart the epoch
                self.position = 0
        self.last_checkpoint = path

    # ------------------------------------------------------------------ one step

    def _loader(self) -> DataLoader:
        cfg = self.cfg
        batches = epoch_batches(self.corpus.num_samples, cfg.data.batch_size, cfg.seed, self.epoch,
                                cfg.data.bucketing, self.dist.rank, self.dist.world_size)
        dataset = BatchDataset(self.corpus, batches[self.position:], self.max_samples, cfg.seed, self.epoch)
        # its own generator: making the iterator must not draw from the global RNG (resume-exact)
        gen = torch.Generator().manual_seed(cfg.seed * 7919 + self.epoch)
        return DataLoader(dataset, batch_size=None, shuffle=False, num_workers=cfg.data.num_workers,
                          collate_fn=collate_one, generator=gen,
                          persistent_workers=False, pin_memory=self.device.type == "cuda")

    def _forward(self, waves: list[torch.Tensor]) -> tuple[torch.Tensor, dict]:
        task = self.cfg.task
        with torch.no_grad():
            feats = self.extractor([w.to(self.device, non_blocking=True) for w in waves], with_target=True)
            inputs, lengths = stack_frames(feats.inputs, feats.lengths, self.stacking)
            targets, _ = stack_frames(feats.targets, feats.lengths, self.stacking)
            masked = mask_batch(inputs, lengths, task.mask_proportion, task.mask_consecutive, task.zero_prob,
                                task.random_prob, generator=self.mask_generator)
            frames = scored_frames(masked.mask, valid_mask(lengths, inputs.size(1)), task.loss_on)
            B, T, D = masked.inputs.shape
            # back to unstacked frames: the encoder stacks them again, exactly as they were
            model_inputs = masked.inputs.reshape(B, T * self.stacking, D // self.stacking)
        autocast = (torch.autocast(self.device.type, dtype=torch.bfloat16) if self.cfg.optim.bf16
                    else contextlib.nullcontext())
        with autocast:
            pred, hidden = self.ddp(model_inputs, lengths * self.stacking, frames)
        loss = l1_loss(pred, targets[frames])
        return loss, {"masked": masked.inputs, "targets": targets, "hidden": hidden, "lengths": lengths}

    def _optimizer_step(self) -> tuple[float, bool]:
        clip = self.cfg.optim.grad_clip
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip if clip > 0 else math.inf)
        return float(norm), math.isfinite(float(norm))

    # ------------------------------------------------------------------ the loop

    def train(self) -> list[StepResult]:
        cfg = self.cfg
        history: list[StepResult] = []
        if self.dist.is_main:
            self.expdir.mkdir(parents=True, exist_ok=True)
            for stale in remove_stale_temp_files(self.expdir):
                tqdm.write(f"[pretrain] removed {stale.name}, left by an interrupted checkpoint write")
            if self.record is not None:
                write_record(self.expdir, self.record)
            save_config(cfg, self.expdir / "config.yaml")
            from tensorboardX import SummaryWriter  # imported late: only rank 0 writes logs
            self.writer = SummaryWriter(str(self.expdir / "log"))
            if self.skipped:
                tqdm.write(f"[pretrain] skipped {len(self.skipped)} unusable audio file(s) out of "
                           f"{len(self.skipped) + len(self.corpus.paths)}")
        bar = tqdm(total=cfg.optim.total_steps, initial=self.step, disable=not (self.dist.is_main and self.progress),
                   dynamic_ncols=True, desc="pretrain", unit="step")
        self.ddp.train()
        accum, loss_sum, micro = cfg.optim.grad_accum, torch.zeros((), device=self.device), 0
        window: list[float] = []
        try:
            while self.step < cfg.optim.total_steps:
                used, started_at = 0, self.position
                for waves, failed in self._loader():
                    self.position += 1
                    used += bool(waves)
                    for problem in failed:
                        if problem not in self.skipped:  # a broken file fails again every epoch: count it once
                            warnings.warn(f"skipping {problem}", stacklevel=1)
                            self.skipped.append(problem)
                    if not waves:
                        if self.dist.enabled:
                            raise RuntimeError(f"every file of a batch failed to load ({'; '.join(failed)}); "
                                               "under DDP the ranks cannot skip steps independently: remove them")
                        continue
                    micro += 1
                    last_micro = micro == accum
                    sync = contextlib.nullcontext() if (last_micro or not self.dist.enabled) else self.ddp.no_sync()
                    with sync:
                        loss, parts = self._forward(waves)
                        (loss / accum).backward()
                    loss_sum += loss.detach()
                    if not last_micro:
                        continue
                    result = self._finish_step(loss_sum / accum, parts)
                    history.append(result)
                    window.append(result.loss)
                    micro, loss_sum = 0, torch.zeros((), device=self.device)
                    bar.update(1)
                    if self.step % cfg.log.log_every == 0 or self.step == cfg.optim.total_steps:
                        self._log_scalars(result, window, bar)
                        window = []
                    if self.step % cfg.log.save_every == 0 or self.step == cfg.optim.total_steps:
                        self.save()
                    if self.step >= cfg.optim.total_steps:
                        break
                else:
                    if used == 0 and started_at == 0:
                        raise RuntimeError(f"epoch {self.epoch} gave no usable batch: every audio file failed to load")
                    self.epoch, self.position = self.epoch + 1, 0
        finally:
            bar.close()
            if self.writer is not None:
                self.writer.close()
        if self.dump_weights_dir is not None:
            self.dump_weights_dir.mkdir(parents=True, exist_ok=True)
            torch.save({k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                       self.dump_weights_dir / f"rank{self.dist.rank}.pt")
        return history

    def _finish_step(self, loss: torch.Tensor, parts: dict) -> StepResult:
        grad_norm, finite = self._optimizer_step()
        # ranks agree on stopping: a NaN on any rank makes the reduced loss NaN everywhere
        mean_loss = float(all_reduce_sum(loss.detach().clone().float(), self.dist)) / self.dist.world_size
        if not (finite and math.isfinite(mean_loss)):
            self.optimizer.zero_grad(set_to_none=True)
            where = self.last_checkpoint or "none written yet"
            raise NonFiniteLossError(f"non-finite loss or gradient at step {self.step + 1} (loss {mean_loss}, "
                                     f"grad norm {grad_norm}): stopped without applying it. "
                                     f"Last good checkpoint: {where}")
        lr = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        if self.writer is not None and self.cfg.log.image_every and self.step % self.cfg.log.image_every == 0:
            self._log_image(parts)
        return StepResult(mean_loss, grad_norm, lr)

    def _log_scalars(self, result: StepResult, window: list[float], bar: tqdm) -> None:
        mean = sum(window) / max(1, len(window))
        bar.set_postfix(loss=f"{mean:.4f}", lr=f"{result.lr:.2e}", refresh=False)
        if self.writer is not None:
            self.writer.add_scalar("train/loss", mean, self.step)
            self.writer.add_scalar("train/lr", result.lr, self.step)
            self.writer.add_scalar("train/grad_norm", result.grad_norm, self.step)
            self.writer.add_scalar("data/skipped_files", len(self.skipped), self.step)

    def _log_image(self, parts: dict) -> None:
        from aalbert.pretrain.visualize import spectrogram_figure  # matplotlib only when images are due

        n = int(parts["lengths"][0])
        with torch.no_grad():
            pred = self.model.head(parts["hidden"][0, :n].float())
        unstack = lambda x: x.reshape(n * self.stacking, -1)  # noqa: E731
        fig = spectrogram_figure(unstack(parts["masked"][0, :n]), unstack(pred), unstack(parts["targets"][0, :n]),
                                 title=f"(step {self.step})")
        self.writer.add_figure("train/spectrograms", fig, self.step)
