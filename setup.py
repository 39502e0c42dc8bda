"""Build hook: bundle the default checkpoints into the wheel (metadata is in setup.cfg).

A wheel ships the checkpoints named in ``BUNDLED_CHECKPOINTS`` (small, and the ones ``zoo demo``
uses) as package data under ``zoo/_checkpoints/``; ``zoo.hub.resolve`` looks there after the
checkpoints folder. The other pretrained names load from the Hugging Face Hub, or from a
clone's ``checkpoints/`` folder via ``ZOO_CHECKPOINTS``. See README, "Installing".
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED_CHECKPOINTS = ("yeast-mlp", "emotions-mlp", "goemotions-transformer")


class BuildPyWithCheckpoints(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "zoo" / "_checkpoints"
        for name in BUNDLED_CHECKPOINTS:
            src = HERE / "checkpoints" / name
            if not (src / "zoo.json").is_file():
                raise SystemExit(f"setup.py: checkpoint {src} is missing; build the wheel "
                                 "from a full clone")
            dst = target / name
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".*"))


setup(cmdclass={"build_py": BuildPyWithCheckpoints})
