"""The pretraining loop: masked acoustic model, AdamW, checkpoints that resume exactly, DDP.

Its conventions are the downstream loop's (aalbert.training_loop): the ``runner`` / ``optimizer``
settings, the non-finite policy, SIGINT/SIGTERM (a checkpoint at the last finished step, then
TrainingInterrupted), the TrainingState. Resume-exact means a run stopped at a checkpoint and
resumed produces bit-identical weights to a straight run: the checkpoint holds model, optimizer, scheduler, step, the data position
``(epoch, micro-batches consumed)`` and the RNG states (torch, numpy, python, the masking
generator; one set per rank). The data order and crops are functions of (seed, epoch), and the
DataLoader gets its own generator so creating one does not draw from the global RNG.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from aalbert import distributed as dist
from aalbert import rng
from aalbert.config import to_dict
from aalbert.corpus.utterance import CorpusListing
from aalbert.experiment import make_record
from aalbert.padding import valid_mask
from aalbert.pretrain import checkpoints
from aalbert.pretrain.config import PretrainConfig
from aalbert.pretrain.data import BatchDataset, batch_loader, epoch_batches, scan_corpus
from aalbert.pretrain.loss import l1_loss, scored_frames
from aalbert.pretrain.masking import mask_batch
from aalbert.pretrain.model import MaskedAcousticModel
from aalbert.pretrain.progress import StepResult, TrainingLog
from aalbert.pretrain.resume_state import restore_checkpoint, write_checkpoint
from aalbert.pretrain.schedule import build_optimizer, build_scheduler
from aalbert.pretrain.span import check_mask_span
from aalbert.training_loop import NonFiniteSteps, TrainingInterrupted, TrainingState, clip_gradients, stop_on_signals
from aalbert.upstream.features import FeatureExtractor
from aalbert.upstream.model import TransformerEncoder, build_spec_head, stack_frames


class Trainer:
    def __init__(
        self,
        cfg: PretrainConfig,
        expdir: str | Path,
        device: torch.device | None = None,
        resume: str | Path | None = None,
        args: dict | None = None,
        dump_weights_dir: str | Path | None = None,
        progress: bool = True,
        record: dict | None = None,
    ):
        """``device``: this process's (aalbert.distributed.init_distributed; default CPU). ``progress``:
        the progress bar, else one plain line per ``runner.log_step`` (rank 0). ``record``: the
        experiment record written into ``expdir`` (default: made from ``cfg``)."""
        self.cfg = cfg
        self.record = record if record is not None else make_record("pretrain", to_dict(cfg))
        self.expdir = Path(expdir)
        self.device = device if device is not None else torch.device("cpu")
        self.rank, self.world_size = dist.rank(), dist.world_size()
        self.is_main = self.rank == 0
        self.args = dict(args or {})
        self.dump_weights_dir = Path(dump_weights_dir) if dump_weights_dir else None
        self.progress = progress

        # model init is drawn from `seed` on every rank (DDP also broadcasts rank 0's weights);
        # dropout and masking then follow rank-specific streams so ranks see different masks
        rng.seed_everything(cfg.seed)
        self.feature_config = cfg.audio
        self.extractor = FeatureExtractor(self.feature_config).to(self.device)
        self.encoder_config = cfg.encoder_config()
        encoder = TransformerEncoder(self.encoder_config)
        head = build_spec_head(self.encoder_config, self.extractor.target_dim)
        self.model = MaskedAcousticModel(encoder, head).to(self.device)
        if self.world_size > 1:
            rng.seed_everything(cfg.seed + self.rank)
        self.mask_generator = torch.Generator().manual_seed(cfg.seed + self.rank)
        self.optimizer = build_optimizer(self.model, cfg.optimizer)
        self.scheduler = build_scheduler(self.optimizer, cfg.optimizer, cfg.runner)
        self.ddp = (
            DistributedDataParallel(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            if self.world_size > 1
            else self.model
        )

        self.stacking = self.encoder_config.stacking
        if self.is_main:
            check_mask_span(cfg)  # warns when spans are shorter than a phone (one copy, from rank 0)
        self.max_samples = (cfg.data.max_frames - 1) * self.extractor.hop_length
        min_samples = max(self.extractor.min_samples, self.extractor.hop_length * (self.stacking - 1) + 1)
        with warnings.catch_warnings():
            if not self.is_main:
                warnings.simplefilter("ignore")  # one copy of each skip warning, from rank 0
            self.corpus: CorpusListing = scan_corpus(cfg.data.corpus_specs(), min_samples=min_samples)
        self.skipped: list[str] = list(self.corpus.unusable)

        self.state = TrainingState()
        self.last_checkpoint: Path | None = None
        self.saved_step = -1  # the step of last_checkpoint
        if resume is not None:
            self._resume(checkpoints.resolve_resume(resume))
        self.log: TrainingLog | None = None  # made by train()

    @property
    def step(self) -> int:
        return self.state.step

    # ------------------------------------------------------------------ checkpoints

    def save(self, rng_states: list[dict] | None = None) -> Path | None:
        """Checkpoint at the current step: all ranks call it (their RNG states are gathered; or
        ``rng_states``, taken earlier), rank 0 writes it and prunes to ``runner.max_keep``."""
        if rng_states is None:
            rng_states = dist.all_gather_objects(rng.capture(self.mask_generator))
        if not self.is_main:
            return None
        path = checkpoints.checkpoint_path(self.expdir, self.state.step)
        write_checkpoint(
            path,
            self.cfg,
            self.model,
            self.feature_config,
            self.optimizer,
            self.scheduler,
            self.state,
            rng_states,
            self.skipped,
            self.args,
        )
        checkpoints.prune(self.expdir, self.cfg.runner.max_keep, newest=path)
        self.last_checkpoint, self.saved_step = path, self.state.step
        return path

    def _resume(self, path: Path) -> None:
        restored = restore_checkpoint(
            path, self.model, self.encoder_config, self.optimizer, self.scheduler, self.cfg.runner.total_steps
        )
        self.state = restored.state
        if restored.rng is not None:
            rng.restore(restored.rng, self.mask_generator)
        self.skipped += [s for s in restored.skipped if s not in self.skipped]
        self.last_checkpoint, self.saved_step = path, self.state.step

    # ------------------------------------------------------------------ one step

    def _loader(self) -> DataLoader:
        cfg = self.cfg
        lengths = [u.measured_num_samples() for u in self.corpus.utterances]
        order = epoch_batches(
            lengths, cfg.runner.batch_size, cfg.seed, self.state.epoch, cfg.data.bucketing, self.rank, self.world_size
        )
        dataset = BatchDataset(self.corpus, order[self.state.position :], self.max_samples, cfg.seed, self.state.epoch)
        return batch_loader(dataset, cfg.seed, self.state.epoch, cfg.runner.num_workers, self.device.type == "cuda")

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
            torch.autocast(self.device.type, dtype=torch.bfloat16) if self.cfg.runner.bf16 else contextlib.nullcontext()
        )
        # the whole last hidden state only when this step draws its figure (else the masked frames')
        image_step = self.cfg.runner.image_step
        keep_hidden = bool(image_step) and (self.state.step + 1) % image_step == 0
        with autocast:
            pred, hidden = self.ddp(model_inputs, lengths * self.stacking, frames, keep_hidden)
        loss = l1_loss(pred, targets[frames])
        return loss, {"masked": masked.inputs, "targets": targets, "hidden": hidden, "lengths": lengths}

    # ------------------------------------------------------------------ the loop

    def train(self) -> list[StepResult]:
        """Train to ``runner.total_steps``. SIGINT/SIGTERM: a checkpoint of the last finished step
        (resumes exactly), then TrainingInterrupted."""
        runner = self.cfg.runner
        history: list[StepResult] = []
        if self.is_main:
            checkpoints.prepare_folder(self.expdir, self.record, self.cfg, self.corpus)
        self.log = TrainingLog("pretrain", runner.total_steps, self.state.step, self.progress, self.expdir / "log")
        self.ddp.train()
        accum, loss_sum, micro = runner.gradient_accumulate_steps, torch.zeros((), device=self.device), 0
        non_finite = NonFiniteSteps(lambda: self.last_checkpoint)
        # where the last finished step left the run: what an interrupt saves (a partial step is dropped)
        finished = (TrainingState(**self.state.as_dict()), rng.capture(self.mask_generator))
        last_save = time.monotonic()
        try:
            with stop_on_signals():
                while self.state.step < runner.total_steps:
                    used, started_at = 0, self.state.position
                    for waves, failed in self._loader():
                        self.state.position += 1
                        used += bool(waves)
                        self._note_failures(failed, every_file=not waves)
                        if not waves:
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
                        result = self._finish_step(loss_sum / accum, parts, non_finite)
                        history.append(result)
                        micro, loss_sum = 0, torch.zeros((), device=self.device)
                        finished = (TrainingState(**self.state.as_dict()), rng.capture(self.mask_generator))
                        at_end = self.state.step == runner.total_steps
                        report = self.state.step % runner.log_step == 0 or at_end
                        self.log.step_result(self.state.step, result, len(self.skipped), report)
                        if self.state.step % runner.save_step == 0 or at_end or self._save_due(last_save, report):
                            self.save()
                            last_save = time.monotonic()
                        if self.state.step >= runner.total_steps:
                            break
                    else:
                        if used == 0 and started_at == 0:
                            raise RuntimeError(
                                f"epoch {self.state.epoch} gave no usable batch: every audio file failed to load"
                            )
                        self.state.epoch, self.state.position = self.state.epoch + 1, 0
        except KeyboardInterrupt:
            self.log.close()
            raise TrainingInterrupted(finished[0].step, self._save_interrupted(*finished)) from None
        finally:
            self.log.close()
        if self.dump_weights_dir is not None:  # tests: every rank's final weights
            self.dump_weights_dir.mkdir(parents=True, exist_ok=True)
            weights = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
            torch.save(weights, self.dump_weights_dir / f"rank{self.rank}.pt")
        return history

    def _note_failures(self, failed: list[str], every_file: bool) -> None:
        for problem in failed:
            if problem not in self.skipped:  # a broken file fails again every epoch: count it once
                warnings.warn(f"skipping {problem}", stacklevel=2)
                self.skipped.append(problem)
        if every_file and self.world_size > 1:
            raise RuntimeError(
                f"every file of a batch failed to load ({'; '.join(failed)}); "
                "under DDP the ranks cannot skip steps independently: remove them"
            )

    def _save_due(self, last_save: float, report: bool) -> bool:
        """``runner.save_minutes`` since the last checkpoint; asked at log steps only, where under DDP
        rank 0's clock decides for every rank (a save is a collective)."""
        minutes = self.cfg.runner.save_minutes
        if not (minutes and report):
            return False
        return bool(dist.broadcast_object(time.monotonic() - last_save >= 60 * minutes))

    def _save_interrupted(self, state: TrainingState, rng_state: dict) -> Path | None:
        """The checkpoint of the last finished step (the weights have not moved since: a partial step
        applies nothing). Under DDP, rank 0 writes its own RNG states only (a collective could hang
        with ranks stopped at different places): that resume reseeds the other ranks' streams."""
        if state.step == 0:
            return None  # nothing trained yet: nothing worth a checkpoint
        if self.saved_step == state.step:
            return self.last_checkpoint
        self.state = state
        self.optimizer.zero_grad(set_to_none=True)
        return self.save([rng_state]) if self.is_main else None

    def _finish_step(self, loss: torch.Tensor, parts: dict, non_finite: NonFiniteSteps) -> StepResult:
        grad_norm = clip_gradients(self.model.parameters(), self.cfg.runner.gradient_clipping)
        # ranks agree: gradients are averaged over the ranks, the loss is reduced here
        mean_loss = float(dist.all_reduce_sum(loss.detach().clone().float())) / self.world_size
        lr = float(self.scheduler.get_last_lr()[0])
        if non_finite.apply(self.state.step + 1, mean_loss, grad_norm):
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.state.step += 1
        image_step = self.cfg.runner.image_step
        if self.log is not None and image_step and self.state.step % image_step == 0:
            self.log.spectrograms(self.state.step, self.model.head, parts, self.stacking)
        return StepResult(mean_loss, grad_norm, lr)
