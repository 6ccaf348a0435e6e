"""A real one-node SLURM cluster on this machine, and a tiny experiment through profiles/slurm and
profiles/slurm-cpu end to end (`snakemake --profile ... --workflow-profile none`), both at once.

Both runs are given a standalone config (no `extends`) with a decoy config.yaml beside it: every job must
run exactly what the main process planned from the standalone file.

The cluster: Debian's slurm-wlm and munge (.ci/run installs them), slurmctld and slurmd as background
processes of this test, a private munged socket, free TCP ports, every file in a temporary folder; no
accounting database (sacct answers "accounting storage is disabled", so the profiles are run with
`slurm-status-command: squeue`), no systemd, no cgroups (proctrack/linuxproc, task/none). The one node
is declared larger than this machine (64 CPUs, 64 GB, `SlurmdParameters=config_overrides`) so that the
profiles' requests (4 CPUs per job, 8 GB per search) fit unchanged, and with two fake GPUs
(`Gres=gpu:2`, gres.conf `File=/dev/null` and `File=/dev/zero`), so that `--gpus=1` jobs are scheduled
as on a GPU node; a job sees CUDA_VISIBLE_DEVICES=0 or 1 but no device, and torch trains on the CPU.

Skipped, with the reason, only when SLURM is not installed, the test does not run as root (slurmd must
start jobs), or the daemons do not come up. Select with `-m slurm`, deselect with `-m "not slurm"`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import TINY_MLP, experiment_run_files
from nasrepro import config as cfg, runs as nasrepro_runs

REPO = Path(__file__).resolve().parents[1]
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scontrol", "scancel", "srun")
PARTITION = "nasrepro"

EXPERIMENT = "slurmcheck"
SEEDS = 2
METHODS = ("weaknas", "regularized_evolution", "random")


def experiment_config() -> dict:
    """Two seeds of WeakNAS (a tiny MLP), R-EA and random search, 30 queries on synthetic NAS-Bench-201."""
    return {
        "data": {"mirror": None, "allow_download": False, "verify_raw": False},  # synthetic raw files
        "benchmarks": {"nb201-cifar10": {"space": "nb201", "dataset": "cifar10-valid", "fit_split": "x-valid",
                                         "encoding": "onehot30"}},
        "methods": {
            "weaknas": {"type": "weaknas", "label": "WeakNAS", "init_sample": 10, "sample_each_iter": 10,
                        "top_start": 30, "top_end": 30, "predictor": TINY_MLP},
            "regularized_evolution": {"type": "regularized_evolution", "label": "Reg Evolution",
                                      "population_size": 10, "tournament_size": 3},
            "random": {"type": "random", "label": "Random Search"},
        },
        "experiments": {EXPERIMENT: {"benchmarks": ["nb201-cifar10"], "methods": list(METHODS), "seeds": SEEDS,
                                     "budget": {"queries": 30}}},
    }


def decoy_config() -> dict:
    """A config.yaml beside the standalone experiment.yaml, as the repository's is when the workflow runs there.
    Laid under the standalone config (what Snakemake does in a cluster job when the Snakefile names config.yaml),
    it would change random search's batch and add an experiment: every job must see neither."""
    config = experiment_config()
    config["methods"]["random"]["batch_size"] = 3
    config["experiments"]["decoy"] = {"benchmarks": ["nb201-cifar10"], "methods": ["random"], "seeds": 3,
                                      "budget": {"queries": 9}}
    return config


# ------------------------------------------------------------------------------------------- cluster
@dataclass
class Cluster:
    root: Path
    conf: Path
    env: dict
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def run(self, *command: str, check: bool = True, timeout: float = 30) -> str:
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def log_tails(self, lines: int = 15) -> str:
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else ["(no log)"]
            parts.append(f"--- {name} ({path})\n" + "\n".join(text))
        return "\n".join(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(root: Path, host: str) -> Path:
    for folder in ("state", "spool", "log"):
        (root / folder).mkdir(exist_ok=True)
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=nasrepro-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/munge.sock
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no systemd, no cgroups in a container: track processes through /proc, bind nothing
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# no accounting database: sacct cannot answer; jobs stay visible to squeue MinJobAge seconds after they end
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=300
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# the node is declared as a small GPU node, larger than this machine
SlurmdParameters=config_overrides
GresTypes=gpu
NodeName={host} NodeAddr=127.0.0.1 CPUs=64 Sockets=1 CoresPerSocket=64 ThreadsPerCore=1 RealMemory=64000 Gres=gpu:2 State=UNKNOWN
PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    # two fake GPUs: any character device stands for one (slurmd only stats it); jobs see CUDA_VISIBLE_DEVICES
    (root / "gres.conf").write_text(f"AutoDetect=off\nNodeName={host} Name=gpu File=/dev/null\n"
                                    f"NodeName={host} Name=gpu File=/dev/zero\n")
    return conf


def wait_for(predicate, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def stop(cluster: Cluster) -> None:
    try:
        cluster.run("scancel", "--partition", PARTITION, check=False, timeout=10)  # this private cluster's jobs only
        time.sleep(1)
    except Exception:
        pass
    for name in reversed(list(cluster.processes)):
        process = cluster.processes[name]
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """A running one-node SLURM cluster; its clients need `cluster.env` (SLURM_CONF)."""
    missing = [b for b in DAEMONS + CLIENTS if shutil.which(b, path=SBIN_PATH) is None]
    if missing:
        pytest.skip(f"SLURM is not installed (missing {', '.join(missing)}); "
                    f"`apt-get install slurm-wlm munge` (.ci/run does) to run this test")
    if os.geteuid() != 0:
        pytest.skip("the one-node SLURM test cluster needs root (slurmd starts the jobs)")
    root = tmp_path_factory.mktemp("slurm")
    host = socket.gethostname().split(".")[0]
    munge_dir = root / "munge"
    munge_dir.mkdir(mode=0o755)
    key = munge_dir / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    conf = write_config(root, host)
    # snakemake-executor-plugin-slurm-jobstep runs each job with a nested `srun` whose environment
    # keeps only a few SLURM_* variables, SLURM_CONF not among them; a real cluster keeps slurm.conf
    # where srun looks by default (/etc/slurm) or runs configless. Here an `srun` first on PATH points
    # the real one at this cluster's slurm.conf instead of writing /etc/slurm.
    shims = root / "bin"
    shims.mkdir()
    srun = shims / "srun"
    srun.write_text(f'#!/bin/sh\nSLURM_CONF="{conf}" exec {shutil.which("srun", path=SBIN_PATH)} "$@"\n')
    srun.chmod(0o755)
    env = {**os.environ, "SLURM_CONF": str(conf), "PATH": os.pathsep.join([str(shims), SBIN_PATH])}
    for variable in [v for v in env if v.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_")) and v != "SLURM_CONF"]:
        del env[variable]  # a surrounding SLURM job's settings must not leak into this cluster
    logs = {"munged": munge_dir / "munged.log", "slurmctld": root / "log" / "slurmctld.log",
            "slurmd": root / "log" / "slurmd.log", "slurmctld stderr": root / "log" / "slurmctld.err",
            "slurmd stderr": root / "log" / "slurmd.err"}
    cluster = Cluster(root=root, conf=conf, env=env, logs=logs)

    def start(name: str, command: list[str]) -> None:
        stderr = open(root / "log" / f"{name}.err", "w") if name != "munged" else subprocess.DEVNULL
        cluster.processes[name] = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
                                                   start_new_session=True)

    socket_path = munge_dir / "munge.sock"
    try:
        start("munged", [shutil.which("munged", path=SBIN_PATH), "--foreground", "--force",
                         f"--socket={socket_path}", f"--key-file={key}", f"--log-file={logs['munged']}",
                         f"--pid-file={munge_dir / 'munged.pid'}", f"--seed-file={munge_dir / 'munged.seed'}"])
        if not wait_for(socket_path.exists, 15):
            raise RuntimeError("munged did not create its socket")
        start("slurmctld", [shutil.which("slurmctld", path=SBIN_PATH), "-D", "-f", str(conf)])
        if not wait_for(lambda: cluster.run("sinfo", check=False, timeout=10).strip() != "", 30):
            raise RuntimeError("slurmctld does not answer sinfo")
        start("slurmd", [shutil.which("slurmd", path=SBIN_PATH), "-D", "-f", str(conf), "-N", host])
        state = lambda: cluster.run("sinfo", "--noheader", "--Node", "--format=%T", check=False, timeout=10).strip()
        if not wait_for(lambda: state() == "idle", 45):
            raise RuntimeError(f"the node is not idle but {state()!r}")
    except Exception as error:  # could not start: say why, with the daemons' logs
        stop(cluster)
        pytest.skip(f"could not start a one-node SLURM cluster: {error}\n{cluster.log_tails()}")
    yield cluster
    stop(cluster)


class JobWatcher:
    """Polls `squeue --states=all` every second and records every state each job went through."""

    FORMAT = "%i|%T|%Z|%k"  # job id (array tasks as <array>_<task>), state, working dir, comment (rule_<rule>_wildcards_...)

    def __init__(self, cluster: Cluster, interval: float = 1.0):
        self.cluster, self.interval = cluster, interval
        self.states: dict[str, list[str]] = {}
        self.workdirs: dict[str, str] = {}
        self.comments: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=15)
        self.poll()  # the final states (jobs stay listed MinJobAge seconds after they end)

    def _loop(self):
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def poll(self):
        try:
            out = self.cluster.run("squeue", "--states=all", "--noheader", f"--format={self.FORMAT}", check=False,
                                   timeout=10)
        except subprocess.TimeoutExpired:
            return
        for line in out.splitlines():
            parts = line.strip().split("|", 3)
            if len(parts) != 4 or "[" in parts[0]:  # skip pending array summaries such as 12_[1-6]
                continue
            job, state, workdir, comment = parts
            seen = self.states.setdefault(job, [])
            if not seen or seen[-1] != state:
                seen.append(state)
            self.workdirs[job], self.comments[job] = workdir, comment

    def jobs_in(self, workdir: Path) -> list[str]:
        return sorted((j for j, w in self.workdirs.items() if Path(w) == workdir), key=lambda j: [int(x) for x in j.split("_")])

    def rule_of(self, job: str) -> str:
        match = re.match(r"rule_(\w+?)(_wildcards_|$)", self.comments.get(job, ""))
        return match.group(1) if match else "?"


def allocation(cluster: Cluster, job: str) -> dict[str, str]:
    """The job's TRES (cpu=4,mem=8000M,node=1,...) and GPU request (TresPerJob=gres:gpu:1 from --gpus=1)."""
    out = cluster.run("scontrol", "show", "job", "--oneliner", job, check=False)
    fields = dict(re.findall(r"\b(TRES|TresPerJob|TresPerNode|TresPerTask)=(\S+)", out))
    return {"tres": fields.get("TRES", ""),
            "gpus": ",".join(v for k, v in fields.items() if k != "TRES" and "gpu" in v)}


def profile_for_test_cluster(profile: str, target: Path) -> Path:
    """The repository's profile with what a user fills in for this cluster: the partition, no account
    (no accounting database), squeue for job status; plus a short first status check and kept job logs."""
    settings = yaml.safe_load((REPO / "profiles" / profile / "config.yaml").read_text())
    assert settings["executor"] == "slurm"
    resources = settings["default-resources"]
    assert "YOUR_PARTITION" in resources["slurm_partition"]
    resources["slurm_partition"] = f"'{PARTITION}'"
    resources.pop("slurm_account", None)
    settings.update({
        "slurm-status-command": "squeue",
        "slurm-init-seconds-before-status-checks": 2,
        "slurm-keep-successful-logs": True,
        "latency-wait": 10,
    })
    target.mkdir(parents=True)
    (target / "config.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return target


PROFILES = ("slurm", "slurm-cpu")


@pytest.mark.slurm
def test_tiny_experiment_through_both_slurm_profiles(slurm_cluster, snakemake_run, raw_files, tmp_path, record_property):
    """profiles/slurm (GPU nodes) and profiles/slurm-cpu on the same cluster, at the same time (their
    status-check pauses overlap): every job of both runs goes through SLURM and completes. The GPU run
    starts from the raw files (convert, encode, 6 searches, collect); to save time on 2 cores the
    CPU-only run gets its table and encoding from a local run first (6 searches as one array, collect)."""
    workdirs, commands = {}, {}
    for profile in PROFILES:
        workdir = workdirs[profile] = tmp_path / f"run-{profile}"
        raw = workdir / "resources" / "raw"
        raw.mkdir(parents=True)
        for source, path in raw_files.items():  # where `fetch` puts the checksum-verified files (test_download.py)
            shutil.copyfile(path, raw / f"{source}{path.suffix}")
        config = workdir / "experiment.yaml"
        config.write_text(yaml.safe_dump(experiment_config()))  # standalone: no `extends`
        (workdir / "config.yaml").write_text(yaml.safe_dump(decoy_config()))
        profile_dir = profile_for_test_cluster(profile, tmp_path / "profiles" / profile)
        if profile == "slurm-cpu":
            local = snakemake_run(workdir, "resources/encodings/nb201-cifar10-onehot30.npy", "--cores", "2",
                                  "--workflow-profile", "none", "--configfile", str(config), timeout=120)
            assert local.returncode == 0, local.stderr[-3000:]
        commands[profile] = ("--profile", str(profile_dir), "--workflow-profile", "none", "--configfile", str(config))

    env = {"SLURM_CONF": str(slurm_cluster.conf), "PATH": slurm_cluster.env["PATH"]}
    started = time.monotonic()
    with JobWatcher(slurm_cluster) as watcher, ThreadPoolExecutor(len(PROFILES)) as pool:
        futures = {p: pool.submit(snakemake_run, workdirs[p], *commands[p], env=env, timeout=300) for p in PROFILES}
        results = {p: f.result() for p, f in futures.items()}
    wall = time.monotonic() - started

    seen = {}
    print(f"\nboth runs took {wall:.0f} s; SLURM job states seen by squeue:")
    for profile in PROFILES:
        for job in watcher.jobs_in(workdirs[profile]):
            seen[f"{profile} {job} {watcher.comments[job]}"] = watcher.states[job]
            print(f"  {profile:9} {job:>5} {watcher.comments[job]}: {' -> '.join(watcher.states[job])}")
    record_property("slurm_job_states", json.dumps(seen))
    for profile in PROFILES:
        result = results[profile]
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{profile}: exit {result.returncode}\n{output[-6000:]}\n{slurm_cluster.log_tails()}"
        check_run(profile, workdirs[profile], output, watcher, slurm_cluster)


def check_run(profile: str, workdir: Path, output: str, watcher: JobWatcher, cluster: Cluster) -> None:
    # the outputs: every run and the collected summary
    config = cfg.load(workdir / "experiment.yaml")
    runs, plan = experiment_run_files(workdir, config, EXPERIMENT), nasrepro_runs.plan(config)
    assert len(runs) == len(METHODS) * SEEDS
    for run in runs.values():
        assert run.is_file(), (profile, run)
        meta = json.loads(run.with_suffix(".json").read_text())
        assert meta["queries_used"] == 30, (profile, run)
        # each job ran exactly the run the main process planned from the standalone config (config.yaml unread),
        # on the table and encoding contents it was planned on
        ran = {key: value for key, value in meta["config"].items() if key != "inputs"}
        assert ran == json.loads(json.dumps(plan.runs[run.parent.name].spec)), (profile, run, meta["config"])
        assert None not in meta["config"]["inputs"].values(), (profile, run)
    assert not (workdir / "results" / "decoy").exists()
    summary = pd.read_parquet(workdir / "results" / EXPERIMENT / "summary.parquet")
    assert len(summary) == len(METHODS) * SEEDS
    assert (workdir / "results" / "provenance.md").is_file()

    # the jobs went through SLURM: squeue saw every one, each ended COMPLETED, each left its log
    jobs = watcher.jobs_in(workdir)
    states = {job: watcher.states[job] for job in jobs}
    rules: dict[str, list[str]] = {}
    for job in jobs:
        rules.setdefault(watcher.rule_of(job), []).append(job)
    expected_rules = ["collect", "convert", "encode", "search"] if profile == "slurm" else ["collect", "search"]
    assert sorted(rules) == expected_rules, (profile, states)
    assert all(s[-1] == "COMPLETED" for s in states.values()), (profile, states)
    assert "SLURM run ID" in output and output.count("has been submitted with SLURM jobid") >= len(rules) - 1, output[-3000:]
    logs = list((workdir / "logs" / "slurm").rglob("*.log"))
    assert len(logs) == len(jobs), (profile, logs, jobs)
    controller_log = cluster.logs["slurmctld"].read_text()
    for job in jobs:
        # the controller started it: "sched: Allocate JobId=N" (main scheduler, arrays as "N_i(j)") or
        # "sched/backfill: _start_job: Started JobId=N" (the backfill scheduler)
        assert re.search(rf"(Allocate|Started) JobId={job}\b", controller_log), (profile, job)

    # what each job asked for
    allocated = {job: allocation(cluster, job) for job in jobs}
    gpu_jobs = {job for job, a in allocated.items() if a["gpus"]}
    searches = rules["search"]
    for job in searches:
        # 8000 MB from the profile; array tasks +1 MB (the plugin's allowance for the array payload)
        assert re.search(r"\bmem=800[01]M", allocated[job]["tres"]), (profile, job, allocated[job])
    if profile == "slurm":
        # one GPU (and cpus_per_gpu=4 CPUs) per MLP-training search, none for the others; no arrays
        weaknas = {job for job in searches if "_wildcards_weaknas-" in watcher.comments[job]}
        assert len(searches) == len(METHODS) * SEEDS and len(weaknas) == SEEDS, (profile, states)
        assert gpu_jobs == weaknas, (profile, allocated)
        for job in weaknas:
            assert allocated[job]["gpus"] == "gres:gpu:1" and "cpu=4," in allocated[job]["tres"], allocated[job]
        assert not any("_" in job for job in jobs), (profile, states)
    else:
        # no job asks for a GPU; the searches went as one SLURM array of 6 tasks
        assert gpu_jobs == set(), (profile, allocated)
        assert len(searches) == len(METHODS) * SEEDS, (profile, states)
        assert len({job.split("_")[0] for job in searches}) == 1 and all("_" in job for job in searches), states


def test_default_profile_gpu_limit_lets_that_many_gpu_jobs_run_at_once(tmp_path):
    """profiles/default's global `resources: gpu: N`: of 2N+1 one-GPU jobs at most N run at the same time."""
    limit = yaml.safe_load((REPO / "profiles" / "default" / "config.yaml").read_text())["resources"]["gpu"]
    snakemake = Path(sys.executable).with_name("snakemake")
    if not snakemake.exists():
        pytest.skip(f"snakemake executable not found beside {sys.executable}")
    n_jobs = 2 * limit + 1
    (tmp_path / "Snakefile").write_text(f"""
rule all:
    input: expand("spans/{{i}}.txt", i=range({n_jobs}))

rule train:
    output: "spans/{{i}}.txt"
    resources: gpu=1
    shell: "date +%s.%N > {{output}}; sleep 1.5; date +%s.%N >> {{output}}"
""")
    result = subprocess.run([str(snakemake), "--cores", str(n_jobs), "--workflow-profile", str(REPO / "profiles" / "default")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    spans = [tuple(map(float, p.read_text().split())) for p in (tmp_path / "spans").glob("*.txt")]
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak == limit, (peak, spans)
