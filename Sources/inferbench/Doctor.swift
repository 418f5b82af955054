import ArgumentParser
import Foundation
import InferbenchCore

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the environment: Python, PyTorch, CUDA, GPU, compiler, torch.compile and AOTInductor.")

    @OptionGroup var pythonOptions: PythonOptions
    @Option(name: .long, help: "auto, cpu, cuda or cuda:N (where the smoke tests run).")
    var device: String = "auto"
    @Flag(name: .long, help: "Skip the AOTInductor smoke test (it compiles C++ and can take half a minute on a CPU).")
    var skipAot = false

    func run() async throws {
        let checks: [DoctorCheck]
        do { checks = try await collect() } catch { throw failure(error) }
        Console.out(DoctorReport.render(checks))
        if checks.contains(where: { $0.status == .fail }) { throw ExitCode(ExitStatus.environment.rawValue) }
    }

    func collect() async throws(InferbenchError) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let choice = try DeviceChoice(parsing: device)
        let (launcher, source) = try pythonOptions.launcher(logDirectory: FileManager.default.temporaryDirectory.appending(path: "inferbench-logs"))
        checks.append(DoctorCheck(.ok, "python", "\(launcher.python) (from \(source.rawValue))"))
        let worker: Worker
        let hello: HelloResult
        do { (worker, hello) = try await launcher.start(label: "doctor") } catch {
            checks.append(
                DoctorCheck(
                    .fail, "worker", error.description, fix: "check that \(launcher.python) runs: `\(launcher.python) -c 'import sys; print(sys.version)'`"))
            return checks
        }
        await checkWithWorker(&checks, worker: worker, hello: hello, launcher: launcher, choice: choice)
        await worker.shutdown()
        return checks
    }

    /// Everything doctor asks of the started worker; stops early where a failure makes the rest moot.
    func checkWithWorker(_ checks: inout [DoctorCheck], worker: Worker, hello: HelloResult, launcher: WorkerLauncher, choice: DeviceChoice) async {
        let env = hello.env
        checks.append(DoctorCheck(.ok, "worker", "protocol \(hello.protocol), Python \(env.python) on \(env.platform ?? "?")"))
        guard let torch = env.torch else {
            checks.append(
                DoctorCheck(
                    .fail, "pytorch", "not importable: \(env.torchError ?? "?")",
                    fix: "`\(launcher.python) -m pip install torch torchvision transformers`, or point --python at a Python that has PyTorch"))
            return
        }
        checks.append(
            DoctorCheck(
                .ok, "pytorch",
                "torch \(torch), torchvision \(env.torchvision ?? "-"), transformers \(env.transformers ?? "-"), diffusers \(env.diffusers ?? "-")"))
        checks.append(
            DoctorCheck(.info, "cpu", "\(env.cpu ?? HostProbe.current().cpu), \(env.cpuCount ?? 0) cores, torch uses \(env.torchThreads ?? 0) threads"))
        switch NVML.open() {
        case .success(let nvml):
            let driver = nvml.driverVersion ?? "?"
            for i in 0..<nvml.deviceCount {
                guard let d = nvml.device(i) else { continue }
                let mem = nvml.memory(d).map { String(format: "%.0f MiB", $0.total) } ?? "?"
                let limit = nvml.powerLimit(d).map { String(format: ", power limit %.0f W", $0) } ?? ""
                checks.append(DoctorCheck(.ok, "gpu \(i)", "\(nvml.name(d) ?? "?"), \(mem)\(limit), driver \(driver)"))
            }
        case .failure(let why):
            checks.append(DoctorCheck(.info, "nvml", "no GPU telemetry: \(why.reason)"))
        }
        if env.cudaAvailable {
            let gpus = env.gpus.map { "\($0.name) (\(String(format: "%.0f", $0.memoryMB ?? 0)) MiB, sm \($0.capability ?? "?"))" }.joined(separator: "; ")
            checks.append(DoctorCheck(.ok, "cuda", "CUDA \(env.cuda ?? "?"), cuDNN \(env.cudnn ?? "-"), Triton \(env.triton ?? "-"): \(gpus)"))
        } else if env.cuda != nil {
            checks.append(DoctorCheck(.info, "cuda", "PyTorch is built for CUDA \(env.cuda!) but sees no GPU: benchmarks run on the CPU"))
        } else {
            checks.append(DoctorCheck(.info, "cuda", "CPU-only PyTorch build: benchmarks run on the CPU"))
        }
        if choice != .cpu && choice != .auto && !env.cudaAvailable {
            checks.append(
                DoctorCheck(
                    .fail, "device", "--device \(choice) asked for CUDA but none is visible",
                    fix: "use --device cpu, or install a CUDA build of PyTorch and the NVIDIA driver"))
            return
        }
        let smokeDevice: String
        switch choice {
        case .cpu: smokeDevice = "cpu"
        case .auto: smokeDevice = env.cudaAvailable ? "cuda:0" : "cpu"
        case .cuda(let i): smokeDevice = "cuda:\(i ?? 0)"
        }
        if smokeDevice == "cpu" {
            if let cxx = env.cxx {
                checks.append(DoctorCheck(.ok, "c++ compiler", "\(cxx) (Inductor's CPU backend compiles C++ with it)"))
            } else {
                checks.append(
                    DoctorCheck(
                        .fail, "c++ compiler", "none found: torch.compile and AOTInductor cannot build CPU kernels",
                        fix: "install g++ (`apt-get install g++`) or set CXX"))
            }
        }
        await checkSmoke(&checks, worker: worker, kind: "compile", device: smokeDevice)
        if !skipAot { await checkSmoke(&checks, worker: worker, kind: "aot-inductor", device: smokeDevice) }
    }

    func checkSmoke(_ checks: inout [DoctorCheck], worker: Worker, kind: String, device: String) async {
        let name = kind == "compile" ? "torch.compile" : "aot-inductor"
        do {
            let r = try await worker.smoke(kind: kind, device: device)
            if r.ok, kind == "compile", let e = r.eagerMS, let c = r.compiledMS {
                let speed = e / c
                let verdict =
                    speed >= 1.05
                    ? String(format: "%.2fx faster", speed) : speed <= 0.95 ? String(format: "%.2fx SLOWER than eager", 1 / speed) : "no faster than eager"
                checks.append(
                    DoctorCheck(
                        speed < 0.95 ? .warn : .ok, name,
                        String(
                            format: "works on %@: compiled in %.1f s; matmul+relu %.3f ms eager vs %.3f ms compiled (%@)", device, r.compileS ?? 0, e, c,
                            verdict),
                        fix: speed < 0.95
                            ? "normal for a function this small (launch and guard overhead dominate): judge torch.compile on your real model with `inferbench run`"
                            : nil))
            } else if r.ok {
                checks.append(
                    DoctorCheck(
                        .ok, name,
                        String(
                            format: "works on %@: export+compile+package+load in %.1f s, max abs err %.2g vs eager", device, r.compileS ?? 0, r.maxAbsErr ?? 0))
                )
            } else {
                checks.append(
                    DoctorCheck(
                        .fail, name, "failed on \(device): \(r.error ?? "?")",
                        fix: (r.error ?? "").contains("SIG")
                            ? "this PyTorch build crashes here: try another torch version, or use torch.compile variants instead of aot-inductor"
                                + (kind == "aot-inductor" ? " (scripts/aoti-probe.py in inferbench's repository reproduces it in plain PyTorch)" : "")
                            : device == "cpu"
                                ? "install g++ and the Python headers (`apt-get install g++ python3-dev`)"
                                : "check that Triton matches this PyTorch (`pip install -U torch`) and the driver supports its CUDA"))
            }
        } catch {
            checks.append(DoctorCheck(.fail, name, WorkerError.describe(error), fix: "see the worker log; rerun with --python pointing at a working PyTorch"))
        }
    }
}
