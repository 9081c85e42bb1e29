"""``aalbert extract``: an upstream's hidden states for a whole corpus, into files other toolkits
read (Kaldi ark/scp, a Lhotse feature manifest, ``.npy`` per utterance), sharded over processes
and resumable. command.py is the torch-free parser; run.py the work."""
