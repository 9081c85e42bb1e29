"""Pretraining Mockingjay / Audio ALBERT: the masked acoustic model, its loop and its command."""

UPSTREAMS = ("aalbert", "mockingjay")  # the families pretraining builds (the family decides the weight sharing)
