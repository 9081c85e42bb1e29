"""The pretraining loop: masked acoustic model, AdamW, checkpoints that resume exactly, DDP.

Resume-exact means a run stopped at a checkpoint and resumed produces bit-identical weights to
a straight run: the checkpoint holds model, optimizer, scheduler, step, the data position
``(epoch, micro-batches consumed)`` and the RNG states (torch, numpy, python, the masking
generator; one set per rank). The data order and crops are functions of (seed, epoch), and the
DataLoader gets its own generator so creating one does not draw from the global RNG.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from aalbert import rng
from aalbert.atomic import remove_stale_temp_files
from aalbert.config import save_config, to_dict
from aalbert.corpus.utterance import CorpusListing
from aalbert.distributed import DistInfo, all_reduce_sum
from aalbert.experiment import make_record, write_record
from aalbert.padding import valid_mask
from aalbert.pretrain import checkpoints
from aalbert.pretrain.config import PretrainConfig
from aalbert.pretrain.data import BatchDataset, collate_one, epoch_batches, scan_corpus
from aalbert.pretrain.loss import l1_loss, scored_frames
from aalbert.pretrain.masking import mask_batch
from aalbert.pretrain.model import MaskedAcousticModel
from aalbert.pretrain.progress import StepResult, TrainingLog
from aalbert.pretrain.resume_state import restore_checkpoint, write_checkpoint
from aalbert.pretrain.schedule import build_optimizer, build_scheduler
from aalbert.pretrain.span import check_mask_span
from aalbert.upstream.features import FeatureExtractor
from aalbert.upstream.model import TransformerEncoder, build_spec_head, stack_frames


class NonFiniteLossError(RuntimeError):
    """Training hit a NaN/inf loss or gradient; the weights were not updated with it."""


class Trainer:
    def __init__(
        self,
        cfg: PretrainConfig,
        expdir: str | Path,
        dist_info: DistInfo | None = None,
        resume: str | Path | None = None,
        args: dict | None = None,
        dump_weights_dir: str | Path | None = None,
        progress: bool = True,
        record: dict | None = None,
    ):
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
        self.ddp = (
            DistributedDataParallel(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            if self.dist.enabled
            else self.model
        )

        self.stacking = self.encoder_config.stacking
        if self.dist.is_main:
            check_mask_span(cfg)  # warns when spans are shorter than a phone (one copy, from rank 0)
        self.max_samples = (cfg.data.max_frames - 1) * self.extractor.hop_length
        min_samples = max(self.extractor.min_samples, self.extractor.hop_length * (self.stacking - 1) + 1)
        with warnings.catch_warnings():
            if not self.dist.is_main:
                warnings.simplefilter("ignore")  # one copy of each skip warning, from rank 0
            self.corpus: CorpusListing = scan_corpus(cfg.data.corpus_specs(), min_samples=min_samples)
        self.skipped: list[str] = list(self.corpus.unusable)

        self.step = 0
        self.epoch = 0
        self.position = 0  # micro-batches of the current epoch already consumed
        self.last_checkpoint: Path | None = None
        if resume is not None:
            self._resume(checkpoints.resolve_resume(resume))
        self.log: TrainingLog | None = None  # made by train()

    # ------------------------------------------------------------------ checkpoints

    def save(self) -> Path | None:
        """Checkpoint at the current step (all ranks call it; rank 0 writes)."""
        return write_checkpoint(self)

    def _resume(self, path: Path) -> None:
        restore_checkpoint(self, path)

    # ------------------------------------------------------------------ one step

    def _loader(self) -> DataLoader:
        cfg = self.cfg
        batches = epoch_batches(
            [u.measured_num_samples() for u in self.corpus.utterances],
            cfg.data.batch_size,
            cfg.seed,
            self.epoch,
            cfg.data.bucketing,
            self.dist.rank,
            self.dist.world_size,
        )
        dataset = BatchDataset(self.corpus, batches[self.position :], self.max_samples, cfg.seed, self.epoch)
        # its own generator: making the iterator must not draw from the global RNG (resume-exact)
        gen = torch.Generator().manual_seed(cfg.seed * 7919 + self.epoch)
        return DataLoader(
            dataset,
            batch_size=None,
            shuffle=False,
            num_workers=cfg.data.num_workers,
            collate_fn=collate_one,
            generator=gen,
            persistent_workers=False,
            pin_memory=self.device.type == "cuda",
        )

    def _forward(self, waves: list[torch.Tensor]) -> tuple[torch.Tensor, dict]:
        task = self.cfg.task
        with torch.no_grad():
            feats = self.extractor([w.to(self.device, non_blocking=True) for w in waves], with_target=True)
            inputs, lengths = stack_frames(feats.inputs, feats.lengths, self.stacking)
            targets, _ = stack_frames(feats.targets, feats.lengths, self.stacking)
            masked = mask_batch(
                inputs,
                lengths,
                task.mask_proportion,
                task.mask_consecutive,
                generator=self.mask_generator,
                zero_prob=task.zero_prob,
                random_prob=task.random_prob,
            )
            frames = scored_frames(masked.mask, valid_mask(lengths, inputs.size(1)), task.loss_on)
            B, T, D = masked.inputs.shape
            # back to unstacked frames: the encoder stacks them again, exactly as they were
            model_inputs = masked.inputs.reshape(B, T * self.stacking, D // self.stacking)
        autocast = (
            torch.autocast(self.device.type, dtype=torch.bfloat16) if self.cfg.optim.bf16 else contextlib.nullcontext()
        )
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
            if self.skipped:
                tqdm.write(
                    f"[pretrain] skipped {len(self.skipped)} unusable audio file(s) out of "
                    f"{len(self.skipped) + len(self.corpus.utterances)}"
                )
        self.log = TrainingLog(
            self.expdir / "log" if self.dist.is_main else None,
            cfg.optim.total_steps,
            self.step,
            show_bar=self.dist.is_main and self.progress,
        )
        self.ddp.train()
        accum, loss_sum, micro = cfg.optim.grad_accum, torch.zeros((), device=self.device), 0
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
                            raise RuntimeError(
                                f"every file of a batch failed to load ({'; '.join(failed)}); "
                                "under DDP the ranks cannot skip steps independently: remove them"
                            )
                        continue
                    micro += 1
                    last_micro = micro == accum
                    # DDP averages gradients at the last micro-batch of a step only
                    ddp = self.ddp if isinstance(self.ddp, DistributedDataParallel) else None
                    sync = ddp.no_sync() if ddp is not None and not last_micro else contextlib.nullcontext()
                    with sync:
                        loss, parts = self._forward(waves)
                        (loss / accum).backward()
                    loss_sum += loss.detach()
                    if not last_micro:
                        continue
                    result = self._finish_step(loss_sum / accum, parts)
                    history.append(result)
                    micro, loss_sum = 0, torch.zeros((), device=self.device)
                    report = self.step % cfg.log.log_every == 0 or self.step == cfg.optim.total_steps
                    self.log.step_done(self.step, result, len(self.skipped), report)
                    if self.step % cfg.log.save_every == 0 or self.step == cfg.optim.total_steps:
                        self.save()
                    if self.step >= cfg.optim.total_steps:
                        break
                else:
                    if used == 0 and started_at == 0:
                        raise RuntimeError(f"epoch {self.epoch} gave no usable batch: every audio file failed to load")
                    self.epoch, self.position = self.epoch + 1, 0
        finally:
            self.log.close()
        if self.dump_weights_dir is not None:
            self.dump_weights_dir.mkdir(parents=True, exist_ok=True)
            torch.save(
                {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                self.dump_weights_dir / f"rank{self.dist.rank}.pt",
            )
        return history

    def _finish_step(self, loss: torch.Tensor, parts: dict) -> StepResult:
        grad_norm, finite = self._optimizer_step()
        # ranks agree on stopping: a NaN on any rank makes the reduced loss NaN everywhere
        mean_loss = float(all_reduce_sum(loss.detach().clone().float())) / self.dist.world_size
        if not (finite and math.isfinite(mean_loss)):
            self.optimizer.zero_grad(set_to_none=True)
            where = self.last_checkpoint or "none written yet"
            raise NonFiniteLossError(
                f"non-finite loss or gradient at step {self.step + 1} (loss {mean_loss}, "
                f"grad norm {grad_norm}): stopped without applying it. "
                f"Last good checkpoint: {where}"
            )
        lr = float(self.scheduler.get_last_lr()[0])
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        if self.log is not None and self.cfg.log.image_every and self.step % self.cfg.log.image_every == 0:
            self.log.spectrograms(self.step, self.model.head, parts, self.stacking)
        return StepResult(mean_loss, grad_norm, lr)
