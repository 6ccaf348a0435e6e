"""Public benchmark files: where they live, how to check them, where the mirror keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

NAS_LANDSCAPES = (
    "https://raw.githubusercontent.com/gabro8a/NAS-Landscapes/"
    "abd5221948d901f765e3bc61d0175a3c1c52b802/data/accuracy/"
)


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    mirror_path: str  # relative to a mirror folder, e.g. ../shared/benchmarks
    sha256: str | None = None
    git_blob: str | None = None  # SHA-1 of b"blob <size>\0" + content, where no sha256 is published
    description: str = ""

    def __post_init__(self) -> None:
        if not (self.sha256 or self.git_blob):
            raise ValueError(f"source {self.name!r} has no checksum")

    @property
    def filename(self) -> str:
        """The file's name in the workflow's resources/raw folder: the source name plus its format's suffix."""
        return self.name + PurePosixPath(self.mirror_path).suffix


SOURCES: dict[str, Source] = {
    s.name: s
    for s in [
        Source(
            name="nb201-cifar10_avg",
            url=NAS_LANDSCAPES + "cifar10_avg.csv",
            mirror_path="nb201/cifar10_avg.csv",
            sha256="1fc89edb42c804223ea2f520a3a65b5e10d8c34bc2d1bbca6bc4b4b38a193827",
            git_blob="be9057c7dd7a0e509cd1b1848c3bce3b54872d61",
            description="NAS-Bench-201 cifar10-valid: train, x-valid, ori-test (mean of seeds, 200 epochs)",
        ),
        Source(
            name="nb201-cifar100_avg",
            url=NAS_LANDSCAPES + "cifar100_avg.csv",
            mirror_path="nb201/cifar100_avg.csv",
            git_blob="bef5955f78e981b71c9caea194377a713410b635",
            description="NAS-Bench-201 cifar100: train, x-valid, x-test",
        ),
        Source(
            name="nb201-ImageNet16-120_avg",
            url=NAS_LANDSCAPES + "ImageNet16-120_avg.csv",
            mirror_path="nb201/ImageNet16-120_avg.csv",
            git_blob="e095424c2fb6d2260ea895692db99dc7a4efee49",
            description="NAS-Bench-201 ImageNet16-120: train, x-valid, x-test",
        ),
        Source(
            name="nb201-nats_bench",
            url=(
                "https://raw.githubusercontent.com/v-tao/nats-bench-landscape/"
                "b307ae5fe6e8d7043cd4fe7d1c3532288271adb7/nats_bench.csv"
            ),
            mirror_path="nb201/nats_bench.csv",
            sha256="cb5d777ec3368be83c8f9b3aa4d520696051cb0eb8d94b8f85b519f9ea4afa3e",
            git_blob="a15806cde5e774239a51874d4ba1db74950a5127",
            description="NATS-Bench topology: test accuracy on cifar10, cifar100, ImageNet16-120; isomorphism string",
        ),
        Source(
            name="nb101-only108",
            url="https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
            mirror_path="nb101/nasbench_only108.tfrecord",
            sha256="4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1",
            description="NAS-Bench-101: 423,624 cells x 3 repeats at 108 epochs (TFRecord, about 499 MB)",
        ),
        Source(
            name="nb101-full",
            url="https://storage.googleapis.com/nasbench/nasbench_full.tfrecord",
            mirror_path="nb101/nasbench_full.tfrecord",
            sha256="3d64db8180fb1b0207212f9032205064312b6907a3bbc81eabea10db2f5c7e9c",
            description="NAS-Bench-101 with 4/12/36/108 epochs (TFRecord, about 1.95 GB); only 108 is used",
        ),
    ]
}


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown benchmark source {name!r}; known: {', '.join(sorted(SOURCES))}") from None
