from setuptools import find_packages, setup

setup(
    name="aalbert",
    version="0.1.0",
    description="Audio ALBERT / Mockingjay self-supervised speech representations: "
    "pretraining, hub, downstream probing and analysis",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # The YAML recipes live in config/ at the repository root (where users look for them);
    # mapping config/ onto the package `aalbert.recipes` ships them inside the package too,
    # so a non-editable install finds them (see aalbert.config_layers.find_recipe).
    packages=find_packages(include=["aalbert", "aalbert.*"]) + ["aalbert.recipes"],
    package_dir={"aalbert.recipes": "config"},
    # a downstream task folder is not a package (aalbert.downstream.registry): its config.yaml
    # (and bases/*.yaml) and, for a task with code of its own, its expert.py ship as package data
    package_data={"aalbert.recipes": ["*.yaml", "*/*.yaml"], "aalbert.downstream": ["*/*.yaml", "*/expert.py"]},
    install_requires=[
        # torch is capped at 2.14.1 on purpose: the torchaudio wheel we use imports with it.
        "torch>=2.1,<=2.14.1",
        "torchaudio>=2.1",
        "numpy",
        "pyyaml",
        "soundfile",
        "scipy",
        "tqdm",
        "tensorboardX",
        "editdistance",
        "matplotlib",
        # MFA TextGrids (phone tier) for phone alignments: a maintained reader, not a hand-written parser
        "praatio>=6",
    ],
    extras_require={
        # Lhotse manifests as a corpus format (data.format=lhotse)
        "lhotse": ["lhotse>=1.20"],
        # `aalbert extract`: Kaldi ark/scp (kaldiio) and Lhotse feature manifests
        "extract": ["kaldiio>=2.17", "lhotse>=1.20"],
        "test": [
            "pytest",
            "lhotse>=1.20",  # the lhotse reader is tested in CI
            "kaldiio>=2.17",  # aalbert extract's Kaldi ark/scp, read back in tests
            # reference implementation, compared against in tests and benchmarks only
            "s3prl==0.4.18",
            "filelock",
            "omegaconf",
            "setuptools",
            "requests",
            "transformers",
            "protobuf",
            # `make test` lints, checks the formatting and type-checks the package first
            "ruff==0.17.6",
            "mypy==2.4.1",
            "types-PyYAML",
            "types-tqdm",
        ],
    },
    entry_points={
        "console_scripts": ["aalbert=aalbert.cli:main"]
        # third-party corpus readers register here: name = "package.module:read"
        # (see docs/adding_a_corpus.md); the built-in ones are in aalbert.corpus.registry
    },
)
