"""The diagnosis rules, one module per concern; every module here is imported by
:func:`tb_nndebug.diagnosis.registry.all_rules`, which registers its rules."""
