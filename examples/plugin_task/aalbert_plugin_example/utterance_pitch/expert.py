"""utterance_pitch: a regression task built on aalbert's reusable head (see docs/adding_a_task.md).

The head (pooling -> MLP -> one number, MSE or L1, targets z-scored with the train split's mean and
std) and its metrics (Pearson, Spearman, MSE, MAE over the whole split) come from aalbert; the task
says what it reads: a numeric per-utterance field, ``pitch`` (from the corpus's metadata: a Kaldi
``utt2pitch`` file, or the table ``data.metadata`` names in config.yaml).
"""

from aalbert.downstream.regression import UtteranceRegressionExpert
from aalbert.downstream.task_labels import utterance_field


class Expert(UtteranceRegressionExpert):
    labels = (utterance_field("pitch", numeric=True),)  # "utterance.pitch:numeric": a float per utterance
    split_policy = "per_speaker"  # every speaker in every split: the pitch varies within a speaker
