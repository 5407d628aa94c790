"""The public names of ``import tb_nndebug as nd`` resolve to what they document."""
import importlib
import inspect
import pkgutil
import types

import tb_nndebug as nd


def _import_every_module():
    for info in pkgutil.walk_packages(nd.__path__, prefix="tb_nndebug."):
        importlib.import_module(info.name)


def test_exported_functions_are_not_shadowed_by_submodules_of_the_same_name():
    # importing a submodule sets it as an attribute of the package: a function
    # exported under a submodule's name would turn into that module
    _import_every_module()
    for name in nd._EXPORTS:
        value = getattr(nd, name)
        assert not isinstance(value, types.ModuleType), f"nd.{name} is a module"
        assert callable(value) or isinstance(value, dict), name


def test_every_public_name_has_a_docstring():
    for name in nd.__all__:
        value = getattr(nd, name)
        assert inspect.getdoc(value), f"nd.{name} has no docstring"


def test_measures_import_without_tensorflow():
    import subprocess
    import sys

    code = ("import sys, tb_nndebug as nd; nd.dataset_complexity([[0, 1], [1, 0]], [0, 1]); "
            "nd.class_balance([0, 1]); nd.csg([[0.0], [1.0], [0.1], [1.1], [0.2], [1.2], "
            "[0.3], [1.3]], [0, 1] * 4, k=1); "
            "assert 'tensorflow' not in sys.modules, 'measures imported tensorflow'")
    subprocess.run([sys.executable, "-c", code], check=True)
