"""tb_nndebug: a model debugger for deep learning that lives inside TensorBoard."""
from setuptools import find_packages, setup

setup(
    name="tb_nndebug",
    version="0.1.0",
    description=(
        "Model debugger for Keras inside TensorBoard: capacity vs. dataset "
        "complexity, class balance, adversarial robustness and training bugs."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["tb_nndebug", "tb_nndebug.*"]),
    package_data={
        "tb_nndebug": ["plugin/static/*", "data/*.md", "data/*/*"],
    },
    install_requires=[
        # pip does not count tensorflow-cpu as satisfying this; install
        # tensorflow itself (2.16 is the first release with Keras 3).
        "tensorflow>=2.16,<2.22",
        "tensorboard>=2.16,<2.22",
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-learn>=1.3",
        "imbalanced-learn>=0.12",
        "cleverhans==4.0.0",
        "werkzeug>=2.0",
        "matplotlib>=3.6",
        "tqdm>=4.60",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "pytest-timeout>=2.1",
            "hypothesis>=6.0",
            "playwright>=1.40",
            # the reference implementation of CSG, used only as a test oracle
            "spectral-metric==0.6.1",
        ],
        "dev": ["ruff>=0.17,<0.18", "import-linter>=2.16,<3"],
        # the other Keras 3 backends the callback runs under (tests/backends/); torch
        # pinned exactly: this machine's wheel cache holds its CPU build
        "backends": ["torch==2.13.0", "jax>=0.5"],
    },
    entry_points={
        "tensorboard_plugins": ["nndebug = tb_nndebug.plugin:DebuggerPlugin"],
        "console_scripts": ["tb-nndebug = tb_nndebug.cli:main"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: TensorFlow",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
