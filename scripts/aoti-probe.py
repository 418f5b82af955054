"""Where does aoti_load_package crash on a host? Each step runs in its own process, so a
segfault in one is reported and the next still runs. Usage: python scripts/aoti-probe.py
(writes under /tmp/aoti-probe; CUDA steps need a GPU)."""
import glob, os, shutil, subprocess, sys, zipfile

STEP = sys.argv[1] if len(sys.argv) > 1 else "main"
W = "/tmp/aoti-probe"

def model():
    import torch
    m = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)).eval()
    return m

if STEP == "compile":
    import torch
    dev = sys.argv[2]
    m = model().to(dev); x = torch.randn(2, 16, device=dev)
    ep = torch.export.export(m, (x,))
    p = torch._inductor.aoti_compile_and_package(ep, package_path=f"{W}/{dev}.pt2")
    print("packaged", p, os.path.getsize(p))
    with zipfile.ZipFile(p) as z:
        for n in z.namelist(): print("  ", n)
        z.extractall(f"{W}/{dev}-x")
    sys.exit(0)
if STEP == "load_pkg":
    import faulthandler; faulthandler.enable()
    import torch
    dev = sys.argv[2]
    r = torch._inductor.aoti_load_package(f"{W}/{dev}.pt2")
    print("loaded"); print(r(torch.randn(2, 16, device=dev)).shape); sys.exit(0)
if STEP == "load_so":
    import faulthandler; faulthandler.enable()
    import torch
    dev = sys.argv[2]
    so = glob.glob(f"{W}/{dev}-x/**/*.so", recursive=True)
    print("so files", so)
    cls = torch._C._aoti.AOTIModelContainerRunnerCpu if dev == "cpu" else torch._C._aoti.AOTIModelContainerRunnerCuda
    r = cls(so[0], 1) if dev == "cpu" else cls(so[0], 1, "cuda", os.path.dirname(so[0]))
    print("runner made")
    print(r.run([torch.randn(2, 16, device=dev)])[0].shape); sys.exit(0)

def sh(cmd, t=300):
    print(f"\n$ {cmd}", flush=True)
    try:
        p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=t)
    except subprocess.TimeoutExpired:
        print(f"[timeout after {t} s]", flush=True)
        return
    print(p.stdout[-6000:], p.stderr[-6000:], f"[rc={p.returncode}]", flush=True)

shutil.rmtree(W, ignore_errors=True)  # never probe an earlier run's library
os.makedirs(W, exist_ok=True)
py = sys.executable
sh(f"{py} -c 'import torch,sys; print(torch.__version__, torch.version.cuda, torch.compiled_with_cxx11_abi(), sys.version)'")
sh("gcc --version | head -1; g++ --version | head -1; which gdb; ldconfig -p | grep -E 'libstdc|libgomp' | head")
sh(f"{py} -c 'import torch; print(torch.__file__)'; pip list 2>/dev/null | grep -iE '^(torch|triton|nvidia-cuda)' ")
for dev in ("cpu", "cuda"):
    sh(f"{py} {__file__} compile {dev}", 600)
    so = glob.glob(f"{W}/{dev}-x/**/*.so", recursive=True)
    for s in so: sh(f"ldd {s} | head -30; nm -D --undefined-only {s} | wc -l")
    sh(f"{py} {__file__} load_pkg {dev}")
    sh(f"{py} {__file__} load_so {dev}")
    if os.path.exists("/usr/bin/gdb"):
        sh(f"gdb -batch -ex run -ex bt --args {py} {__file__} load_pkg {dev} 2>&1 | tail -40")
    else:
        sh(f"{py} -X faulthandler {__file__} load_pkg {dev}; dmesg 2>/dev/null | tail -3")
