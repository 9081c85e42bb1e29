"""Analysis of upstream layers: attention Jensen-Shannon divergence between layers, per-layer probing.

python run_attention.py -u aalbert_local -k CKPT --data DIR --num-utterances 50 -n NAME      (attention.py, jsd.py)
python run_probe.py -u aalbert_local -k CKPT --task phone --data DIR --out OUT   (probing.py, probe*.py)
aalbert plots layer-weights EXPDIR                                              (plots.py)
"""

from .jsd import LN2, JSDAccumulator, jsd, utterance_jsd_sums

__all__ = ["LN2", "JSDAccumulator", "jsd", "utterance_jsd_sums"]
