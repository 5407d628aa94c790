"""The paper's experiments, runnable: ``tb-nndebug demo`` or ``python -m tb_nndebug.demo.<name>``."""
