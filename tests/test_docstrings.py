"""Every public module, class, function and method of hwsnn carries a docstring."""

import importlib
import inspect
import pkgutil

import hwsnn


def public_objects():
    for info in pkgutil.walk_packages(hwsnn.__path__, "hwsnn."):
        module = importlib.import_module(info.name)
        yield info.name, module
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{info.name}.{name}", obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    target = member.fget if isinstance(member, property) else member
                    if inspect.isfunction(target):
                        yield f"{info.name}.{name}.{attr}", target


def test_public_api_is_documented():
    missing = [name for name, obj in public_objects() if not (inspect.getdoc(obj) or "").strip()]
    assert not missing, f"undocumented: {missing}"
