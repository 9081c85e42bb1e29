"""A toy upstream (log energies in 32 frequency bands, 10 ms hop), registered under `aalbert.upstream`."""

import torch
from torch import nn


class BandEnergies(nn.Module):
    name = "toy_bands"
    hidden_size = 32
    num_layers = 0  # one hidden state: the band energies themselves
    downsample_rate = 160

    def forward(self, wavs):
        feats = []
        for wav in wavs:
            spec = (
                torch.stft(wav, 320, 160, window=torch.hann_window(320, device=wav.device), return_complex=True)
                .abs()
                .pow(2)
            )
            feats.append(torch.log(spec[:160].reshape(32, 5, -1).mean(1) + 1e-6).T)
        lengths = torch.tensor([f.shape[0] for f in feats])
        padded = nn.utils.rnn.pad_sequence(feats, batch_first=True)
        return {"hidden_states": [padded], "last_hidden_state": padded, "lengths": lengths}


def toy_bands(**kwargs):
    return BandEnergies(**kwargs)
