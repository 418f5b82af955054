import Foundation

/// The words of the load-test reports, English and Chinese side by side.
extension ReportText {
    var loadTitle: String { pick("Load test report", "负载测试报告") }
    var loadSetup: String { pick("Setup", "配置") }
    var loadSteps: String { pick("Steps", "测试步骤") }
    var loadTimeline: String { pick("Timeline", "时间线") }
    func loadSetupLine(_ info: LoadInfo) -> String {
        if let target = info.target { return loadTargetLine(info, target) }
        guard let variant = info.variant else { return info.model }
        let delay = Format.trimmed(info.maxDelayMS)
        let window = Format.trimmed(info.windowS)
        // Absent (results from before --in-flight) or 1: one batch at a time, as the sentence always said.
        let pipelined = info.inFlight.map { $0 > 1 } ?? false
        let inFlight = info.inFlight ?? 1
        let buckets = info.batchBuckets.map { $0.map(String.init).joined(separator: ",") }
        let setup = pick(
            "\(info.model), \(variant.family), \(info.workers) worker(s) behind a dynamic batcher: batches of up to \(info.maxBatch)\(buckets.map { " padded to buckets \($0)" } ?? ""), waiting at most \(delay) ms to fill, at most \(Format.count(Double(info.maxQueue))) requests queued\(pipelined ? ", \(inFlight) batches in flight per worker" : ""); figures per \(window) s window.",
            "\(info.model),\(variant.family),\(info.workers) 个 worker 位于动态批处理器之后:批大小最多 \(info.maxBatch)\(buckets.map { "(填充至分桶 \($0))" } ?? ""),凑批最多等待 \(delay) 毫秒,排队最多 \(Format.count(Double(info.maxQueue))) 个请求\(pipelined ? ",每个 worker 同时执行 \(inFlight) 个批" : "");每 \(window) 秒一个统计窗口。"
        )
        let mps =
            info.mps == true
            ? pick(
                "The workers were clients of a private CUDA MPS daemon (--mps): workers on one GPU ran kernels at the same time.",
                "worker 作为私有 CUDA MPS 守护进程的客户端运行(--mps):同一 GPU 上的 worker 可同时执行内核。") : nil
        let lines = [setup] + [loadShapesLine(info), loadPayloadLine(info), mps].compactMap { $0 }
        return lines.joined(separator: pick(" ", ""))
    }
    /// `--target`: the server, how requests reached it, and what it serves.
    func loadTargetLine(_ info: LoadInfo, _ t: TargetInfo) -> String {
        let server = t.server.map { " (\($0)\(t.serverVersion.map { " \($0)" } ?? ""))" } ?? ""
        let inputs = t.inputs.map { "\($0.name) \($0.datatype.rawValue) \($0.shape)" }.joined(separator: ", ")
        let window = Format.trimmed(info.windowS)
        let timeout = Format.trimmed(t.timeoutS)
        return pick(
            "\(info.model) at \(t.url)\(server) over the Open Inference Protocol (REST, \(t.encoding.rawValue) tensors; inputs \(inputs)): up to \(t.connections) connections kept alive, each request timed out after \(timeout) s; the server batched and ran the model as it is set up to. Latency runs from each request's due time; figures per \(window) s window.",
            "\(info.model) 位于 \(t.url)\(server),经 Open Inference Protocol(REST,\(t.encoding.rawValue) 张量;输入 \(inputs)):最多 \(t.connections) 个保持连接,每个请求 \(timeout) 秒超时;批处理与模型运行方式由服务器自身配置决定。延迟从每个请求的计划发送时间算起;每 \(window) 秒一个统计窗口。"
        )
    }
    /// With --seq-len (or --image-size): the lengths, their padding and what was warmed.
    func loadShapesLine(_ info: LoadInfo) -> String? {
        guard let seqLen = info.seqLen else { return nil }
        let buckets = (info.lengthBuckets ?? []).map(String.init).joined(separator: ",")
        let warm = info.warmLengths.map { $0.isEmpty ? nil : $0.map(String.init).joined(separator: ",") } ?? nil
        if info.lengthAxis == .size {
            return pick(
                "Request image sizes \(seqLen) pixels a side, batched by equal size; warmed before measuring: \(warm.map { "every batch bucket at sizes \($0)" } ?? "only the shape the model loaded at").",
                "请求图像尺寸 \(seqLen) 像素(边长),按相同尺寸组批;测量前预热:\(warm.map { "每个批分桶在尺寸 \($0)" } ?? "仅加载模型时的形状")。")
        }
        return pick(
            "Request lengths \(seqLen), padded to --pad-to \(info.padTo ?? "none") (lengths \(buckets)); warmed before measuring: \(warm.map { "every batch bucket at lengths \($0)" } ?? "only the shape the model loaded at").",
            "请求长度 \(seqLen),按 --pad-to \(info.padTo ?? "none") 填充(长度 \(buckets));测量前预热:\(warm.map { "每个批分桶在长度 \($0)" } ?? "仅加载模型时的形状")。")
    }
    var loadHowToRead: String {
        pick(
            "Latency counts from each request's due time (open loop) or send time (closed loop), so a stall shows in every request it delays. Offered is what was due or sent per second, achieved what completed; dropped requests were rejected by a full queue, errors failed in a worker. Queue (due time to dispatch), ipc (round trip beyond the worker's own time, with --payload host gathering the batch's inputs into the ring and reading its outputs), h2d and d2h (the batch's copies to the device and back, --payload host), compute (the model alone) and batch (requests per batch run) are means; padding is the samples run, each batch padded up to its bucket, ÷ the requests served (1.00: none wasted).",
            "延迟从每个请求的计划发送时间(开环)或实际发送时间(闭环)算起,因此一次停顿会体现在它拖延的每个请求上。“目标速率”为每秒计划或发送的请求数,“达成”为每秒完成数;丢弃的请求因队列已满被拒绝,错误为 worker 中失败的请求。排队(计划时间到分派)、ipc(往返时间减去 worker 自身耗时;--payload host 时含将输入写入环形缓冲区与读回输出)、h2d 与 d2h(批次复制到设备及复制回来,--payload host)、计算(仅模型)与批大小(每批的请求数)均为平均值;填充比为实际运行的样本数(每批填充至其分桶)÷ 服务的请求数(1.00 表示没有浪费)。"
        )
    }
    var loadEarlyNote: String {
        pick(
            "FAIL (early): the step was stopped once more of its requests had exceeded the SLA than the rule allows for its planned count (it could no longer pass).",
            "未通过(提前停止):超出 SLA 的请求数已多于规则对其计划请求数所允许的数目时,该步骤即被停止(已不可能通过)。")
    }
    var loadFewForP99: String {
        pick(
            "— in the p99 column: the step completed fewer than 100 requests, too few for a P99 (it would be their maximum).",
            "p99 列中的 —:该步骤完成的请求少于 100 个,不足以给出 P99(只会是最大值)。")
    }
    func loadRuleNote(confidence: Double) -> String {
        let c = Format.trimmed(100 * confidence)
        return pick(
            "A step passes when, at \(c)% confidence, at most 1% of its requests exceed the SLA (MLPerf LoadGen's early stopping): with k of n requests over it (failed and dropped ones count as over), P(X ≤ k | n, 1%) must be at most \(Format.trimmed(100 - 100 * confidence))%, which needs n ≥ 459; it must also drop nothing, fail under 1% and achieve 95% of its target. Over SLA is k/n (≤ the most the rule allows; ≤a/m for a step stopped early: a allowed of the m it planned); P99 bound is the latency at the rank the rule allows, within the SLA exactly when the step passes; goodput counts the requests per second that met the SLA. A pass whose bound is within 10% of the SLA is run again on other arrivals, and its rate passes only if both runs do.",
            "步骤通过的条件:在 \(c)% 置信度下,超出 SLA 的请求不超过 1%(MLPerf LoadGen 的提前停止规则):n 个请求中有 k 个超出(失败与丢弃的请求计为超出)时,P(X ≤ k | n, 1%) 须不超过 \(Format.trimmed(100 - 100 * confidence))%,因此至少需要 459 个请求;此外不得丢弃请求、错误低于 1%、达成目标速率的 95%。“超出 SLA”为 k/n(≤ 规则允许的最大数;提前停止的步骤写作 ≤a/m:其计划的 m 个请求中允许 a 个);“P99 上界”为规则所允许名次上的延迟,恰在步骤通过时不超过 SLA;有效吞吐为每秒满足 SLA 的请求数。上界距 SLA 不足 10% 的通过步骤会以另一组到达时间再运行一次,两次都通过该速率才算通过。"
        )
    }

    // The steps table.
    var stepColumn: String { "#" }
    var scenarioColumn: String { pick("scenario", "场景") }
    var targetColumn: String { pick("target/s", "目标/秒") }
    var achievedColumn: String { pick("achieved/s", "达成/秒") }
    var sentColumn: String { pick("sent", "发送") }
    var okColumn: String { pick("ok", "成功") }
    var droppedColumn: String { pick("dropped", "丢弃") }
    var errorsColumn: String { pick("errors", "错误") }
    var batchColumn: String { pick("batch", "平均批大小") }
    var paddingColumn: String { pick("padding", "填充比") }
    var p50Column: String { pick("p50 ms", "p50 毫秒") }
    var p99Column: String { pick("p99 ms", "p99 毫秒") }
    var maxColumn: String { pick("max ms", "最大值 毫秒") }
    var breakdownColumn: String { pick("queue / ipc / compute ms", "排队 / ipc / 计算 毫秒") }
    /// With `--payload host`: the copies to and from the device beside compute.
    var breakdownColumnWithCopies: String { pick("queue / ipc / h2d / compute / d2h ms", "排队 / ipc / h2d / 计算 / d2h 毫秒") }
    /// A target's own timing (`load --target`): the server's time per request, and of it the
    /// time queued and computing, where its statistics give them.
    var breakdownColumnServer: String { pick("server / its queue / its compute ms", "服务端 / 其排队 / 其计算 毫秒") }
    var serverColumn: String { pick("server", "服务端") }
    var serverQueueColumn: String { pick("srv queue", "服务端排队") }
    var serverComputeColumn: String { pick("srv compute", "服务端计算") }
    /// Where the inputs came from (`--payload`); nil for results from before it (inputs on the device, unsaid).
    func loadPayloadLine(_ info: LoadInfo) -> String? {
        switch info.payload {
        case nil: return nil
        case .device?:
            return pick(
                "Inputs were made on the device by the worker (--payload device): no request bytes were copied, a compute-only ceiling.",
                "输入由 worker 直接在设备上生成(--payload device):不复制请求数据,是仅计算的上限。")
        case .host?:
            let pinned =
                info.payloadPinned.map { $0 ? pick(" (page-locked)", "(锁页内存)") : pick(" (pageable: CUDA refused to pin it)", "(可分页内存:CUDA 未能锁页)") } ?? ""
            let from = info.payloadFile.map { pick(" (samples from \($0))", "(样本来自 \($0))") } ?? ""
            return pick(
                "Each request's input bytes\(from) went from inferbench through a shared-memory ring\(pinned) to the worker, which copied each batch to the device and its outputs back (h2d, d2h; --payload host).",
                "每个请求的输入字节\(from)由 inferbench 经共享内存环形缓冲区\(pinned)传给 worker,worker 将每批复制到设备并把输出复制回来(h2d、d2h;--payload host)。")
        }
    }
    var slaColumn: String { "SLA" }
    // Columns of the terminal table only.
    var lateColumn: String { pick("late", "迟发") }
    var p90Column: String { pick("p90 ms", "p90 毫秒") }
    var queueColumn: String { pick("queue", "排队") }
    var computeColumn: String { pick("compute", "计算") }
    var rangeColumn: String { pick("min–max", "最小–最大") }
    var warningLabel: String { pick("warning", "警告") }
    /// Where latency counts from, and whose breakdown the table shows: inferbench's batcher's,
    /// or for a target (`server`) the server's own statistics.
    func loadTerminalNote(server: Bool = false) -> String {
        let origin = pick(
            "Latency counts from each request's scheduled time (open loop) or send time (closed loop); ",
            "延迟从每个请求的计划发送时间(开环)或实际发送时间(闭环)算起;")
        let parts =
            server
            ? pick(
                "server, srv queue and srv compute are the server's own means per request in ms, from its statistics (the rest of the latency is the network and the client).",
                "服务端、服务端排队与服务端计算为服务端自身统计的每请求平均值,单位毫秒(其余延迟来自网络与客户端)。")
            : pick("queue, ipc and compute are means in ms.", "排队、ipc 与计算为平均值,单位毫秒。")
        return origin + parts
    }
    /// The columns the terminal left out to fit its width.
    func loadLeftOut(_ headers: [String], width: Int) -> String {
        pick(
            "Left out to fit \(width) columns: \(headers.joined(separator: ", ")) (--wide shows every column; report.md has them all).",
            "为适应 \(width) 列宽度而省略:\(headers.joined(separator: "、"))(--wide 显示全部列;report.md 中有完整内容)。")
    }
    var loadTerminalRule: String {
        pick(
            "SLA rule: a step passes when, at 99% confidence, at most 1% of its requests exceed the SLA (k of n over, failures and drops included, with P(X ≤ k | n, 1%) ≤ 1%; n ≥ 459). p99 bound: the latency at the rank the rule allows; over SLA: k/n (≤ the most allowed; ≤a/m: a of the m planned, for a step stopped early); goodput: requests/s within the SLA. A pass within 10% of the SLA is run again (repeat) and its rate must pass both runs.",
            "SLA 规则:在 99% 置信度下,超出 SLA 的请求不超过 1% 时步骤通过(n 个中 k 个超出,失败与丢弃计入,要求 P(X ≤ k | n, 1%) ≤ 1%;n ≥ 459)。p99 上界:规则所允许名次上的延迟;超出 SLA:k/n(≤ 允许的最大数;提前停止的步骤写作 ≤a/m,即计划的 m 个中允许 a 个);有效吞吐:每秒满足 SLA 的请求数。距 SLA 不足 10% 的通过会再运行一次(重复),两次都通过该速率才算通过。"
        )
    }
    func loadOverTime(_ window: Double) -> String {
        let w = Format.trimmed(window)
        return pick(
            "Over time, per \(w) s window (bars scaled to the highest of all steps; the HTML report draws it with the machine):",
            "随时间变化,每 \(w) 秒一个窗口(条形按所有步骤中的最高值缩放;HTML 报告会连同机器状态一起绘出):")
    }
    var slaPass: String { pick("pass", "通过") }
    var slaFail: String { pick("FAIL", "未通过") }
    var slaFailEarly: String { pick("FAIL (early)", "未通过(提前停止)") }
    var partialStep: String { pick("cut short", "被截断") }
    var p99BoundColumn: String { pick("p99 bound ms", "p99 上界 毫秒") }
    var overSLAColumn: String { pick("over SLA", "超出 SLA") }
    var goodputColumn: String { pick("goodput/s", "有效吞吐/秒") }
    var slaClose: String { pick("close", "接近") }
    func repeatOf(_ index: Int) -> String { pick("repeat of #\(index + 1)", "重复第 \(index + 1) 步") }
    /// k/n and the most the rule allows: `3/1000 (≤2)`; `3/300 (<459)` when too few to pass;
    /// `3/100 (≤2/1014)` for a step stopped early, allowed 2 of the 1014 it planned.
    static func overSLA(_ sla: LoadTestResult.SLAFigures) -> String {
        let allowed = sla.allowedOver.map { "≤\($0)" + (sla.planned.map { "/\($0)" } ?? "") } ?? "<459"
        return "\(sla.over)/\(sla.requests) (\(allowed))"
    }

    // The conclusion.
    /// The capacity interval, in the words of the rule: `capacity 7,174–7,846 requests/s at
    /// P99 ≤ 15 ms (conservative, 99% confidence)`.
    func loadCapacity(_ c: Capacity, sla: Double, steps: [LoadTestResult]) -> String {
        let bound = Format.trimmed(sla)
        let conf = Format.trimmed(100 * c.confidence)
        let repeats = steps.filter { $0.sla?.repeatOf != nil }.count
        let tried = pick(
            " (\(steps.count) step(s) run\(repeats > 0 ? ", \(repeats) of them repeats near the SLA" : ""))",
            "(共运行 \(steps.count) 步\(repeats > 0 ? ",其中 \(repeats) 步为接近 SLA 的重复" : ""))")
        switch c.kind {
        case .interval:
            let (lo, hi) = (Format.qps(c.lowerQPS ?? 0), Format.qps(c.upperQPS ?? 0))
            return pick(
                "Capacity \(lo)–\(hi) requests/s at P99 ≤ \(bound) ms (conservative, \(conf)% confidence): \(lo)/s passed in every run, \(hi)/s failed\(tried).",
                "容量 \(lo)–\(hi) 请求/秒(P99 ≤ \(bound) 毫秒,保守判定,\(conf)% 置信度):\(lo)/秒 每次运行均通过,\(hi)/秒 未通过\(tried)。")
        case .atLeast:
            let lo = Format.qps(c.lowerQPS ?? 0)
            return pick(
                "Capacity at least \(lo) requests/s at P99 ≤ \(bound) ms (conservative, \(conf)% confidence): no rate tried failed\(tried); the search stopped before it found the limit.",
                "容量至少 \(lo) 请求/秒(P99 ≤ \(bound) 毫秒,保守判定,\(conf)% 置信度):所尝试的速率均通过\(tried);搜索在找到上限之前已停止。")
        case .below:
            let hi = Format.qps(c.upperQPS ?? 0)
            if let idle = SLASearch.unloadedFailure(steps, upper: c.upperQPS) {
                return loadFailsUnloaded(idle, sla: bound, tried: tried)
            }
            return pick(
                "Even the lowest rate tried, \(hi) requests/s, failed P99 ≤ \(bound) ms (conservative, \(conf)% confidence)\(tried): the capacity is below it. Lower the rate, raise --max-batch or add workers.",
                "即使所尝试的最低速率 \(hi) 请求/秒 也未满足 P99 ≤ \(bound) 毫秒(保守判定,\(conf)% 置信度)\(tried):容量低于该速率。请降低速率、增大 --max-batch 或增加 worker。"
            )
        case .unknown:
            return loadNoPass(sla: sla, steps: steps.count)
        }
    }
    /// The search stopped at a rate that failed with almost nothing in flight.
    func loadFailsUnloaded(_ step: LoadTestResult, sla bound: String, tried: String) -> String {
        let rate = Format.qps(step.targetQPS ?? step.achievedQPS)
        let inFlight = Format.trimmed((step.achievedQPS * (step.latencyMS?.mean ?? 0) / 1000 * 100).rounded() / 100)
        let (p50, p99) = (Format.ms(step.latencyMS?.p50 ?? 0), Format.ms(step.latencyMS?.p99 ?? 0))
        return pick(
            "No rate can meet P99 ≤ \(bound) ms: at \(rate) requests/s, with \(inFlight) requests in the server on average (rate × mean latency), P99 was \(p99) ms (P50 \(p50) ms)\(tried). That is the serving path's own latency, not queueing, so the search stopped instead of trying lower rates: a faster variant, a shorter --max-delay or a looser SLA would.",
            "任何速率都无法满足 P99 ≤ \(bound) 毫秒:在 \(rate) 请求/秒 时,服务中平均只有 \(inFlight) 个请求(速率 × 平均延迟),P99 仍为 \(p99) 毫秒(P50 \(p50) 毫秒)\(tried)。这是服务路径本身的延迟,而非排队,因此搜索不再尝试更低的速率:需要更快的变体、更短的 --max-delay 或更宽松的 SLA。"
        )
    }
    func loadBest(_ qps: Double, sla: Double, steps: Int) -> String {
        pick(
            "Highest Poisson rate whose P99 stayed within \(Format.trimmed(sla)) ms: \(Format.rate(qps)) requests/s (\(steps) step(s) tried).",
            "P99 不超过 \(Format.trimmed(sla)) 毫秒的最高泊松速率:\(Format.rate(qps)) 请求/秒(共尝试 \(steps) 步)。")
    }
    func loadNoPass(sla: Double, steps: Int) -> String {
        pick(
            "No rate tried kept P99 within \(Format.trimmed(sla)) ms (\(steps) step(s) tried): lower the rate, raise --max-batch or add workers.",
            "所尝试的速率均未能使 P99 不超过 \(Format.trimmed(sla)) 毫秒(共尝试 \(steps) 步):降低速率、增大 --max-batch 或增加 worker。")
    }
    func loadStepSummary(_ step: LoadTestResult) -> String {
        let p99 = step.latencyMS.map { Format.ms($0.p99) }
        let target = (step.rampQPS != nil ? nil : step.targetQPS).map { pick(" (target \(Format.rate($0))/s)", "(目标 \(Format.rate($0))/秒)") } ?? ""
        let latency = p99.map { pick(", P99 \($0) ms", ",P99 \($0) 毫秒") } ?? ""
        return pick(
            "\(step.scenario): \(Format.rate(step.achievedQPS)) requests/s achieved\(target)\(latency), \(step.dropped) dropped, \(step.errors) errors.",
            "\(step.scenario):达成 \(Format.rate(step.achievedQPS)) 请求/秒\(target)\(latency),丢弃 \(step.dropped),错误 \(step.errors)。")
    }
    /// The offline rounds with their interval, and batching efficiency (capacity ÷ offline)
    /// with its own, or the share of it the busiest step reached.
    func loadOffline(_ offline: OfflineThroughput, efficiency: BatchingEfficiency?, reached: Double?, lengths: OfflineLengths? = nil) -> String {
        let ci =
            offline.ci95.map {
                pick(" (95% interval \(Format.qps($0.lower))–\(Format.qps($0.upper)))", "(95% 区间 \(Format.qps($0.lower))–\(Format.qps($0.upper)))")
            } ?? ""
        let rounds = offline.roundsPerS.count
        var share = ""
        // The estimate and its range, the range left out when it rounds to the estimate.
        func figure(_ estimate: Double?, _ lower: Double, _ upper: Double?) -> String {
            let range = Self.percentRange(lower, upper)
            guard let estimate else { return range }
            let point = Self.percent(estimate)
            return range == point ? point : pick("\(point) (\(range))", "\(point)(\(range))")
        }
        if let efficiency {
            let value = figure(efficiency.estimate, efficiency.lower, efficiency.upper)
            share = pick("; batching efficiency (capacity ÷ offline) \(value)", ";批处理效率(容量 ÷ 离线)\(value)")
        } else if let reached, reached > 0 {
            let value = figure(reached / offline.perS, reached / offline.range.upper, reached / offline.range.lower)
            share = pick("; the batcher reached \(value) of it", ";批处理器达到其 \(value)")
        }
        return pick(
            "Offline throughput (all samples available, back to back at the largest batch\(offlineLengths(lengths)), \(rounds) round(s)): \(Format.qps(offline.perS)) samples/s\(ci)\(share).",
            "离线吞吐量(所有样本就绪,以最大批大小连续执行\(offlineLengths(lengths)),\(rounds) 轮):\(Format.qps(offline.perS)) 样本/秒\(ci)\(share)。")
    }
    /// Which lengths the offline batches ran at, for a test with lengths.
    func offlineLengths(_ lengths: OfflineLengths?) -> String {
        switch lengths {
        case .drawn?: return pick(", at lengths drawn like the requests'", ",长度按请求的分布抽取")
        case .loaded?: return pick(", at the longest (loaded) length, not the requests' mix", ",按最长(加载)长度,而非请求的长度分布")
        case nil: return ""
        }
    }
    static func percent(_ fraction: Double) -> String { String(format: "%.0f%%", 100 * fraction) }
    /// `62–85%`; `62%` when both ends round alike; `≥ 62%` without an upper end.
    static func percentRange(_ lower: Double, _ upper: Double?) -> String {
        guard let upper else { return String(format: "≥ %.0f%%", 100 * lower) }
        let (lo, hi) = (percent(lower), percent(upper))
        return lo == hi ? lo : String(format: "%.0f–%.0f%%", 100 * lower, 100 * upper)
    }
    func loadOffline(_ offline: Double, reached: Double?) -> String {
        let share =
            reached.map {
                pick("; the batcher reached \(String(format: "%.0f", 100 * $0 / offline))% of it", ";批处理器达到其 \(String(format: "%.0f", 100 * $0 / offline))%")
            } ?? ""
        return pick(
            "Offline throughput (all samples available, back to back at the largest batch): \(Format.rate(offline)) samples/s\(share).",
            "离线吞吐量(所有样本就绪,以最大批大小连续执行):\(Format.rate(offline)) 样本/秒\(share)。")
    }
    func loadCutShort(_ step: LoadTestResult, index: Int) -> String {
        let seconds = Format.trimmed(step.durationS.rounded())
        let worst = step.windows.compactMap(\.p99).max().map { pick(", window P99 up to \(Format.ms($0)) ms", ",窗口 P99 最高 \(Format.ms($0)) 毫秒") } ?? ""
        return pick(
            "The test was cut short during step \(index + 1) (\(step.scenario)) after \(seconds) s. Over the \(step.windows.count) window(s) recorded it achieved \(Format.rate(step.achievedQPS)) requests/s\(worst), \(step.errors) dropped or failed; there are no latency percentiles over the whole step.",
            "测试在第 \(index + 1) 步(\(step.scenario))进行 \(seconds) 秒后被截断。在已记录的 \(step.windows.count) 个窗口中达成 \(Format.rate(step.achievedQPS)) 请求/秒\(worst),丢弃或失败 \(step.errors) 个;没有整个步骤的延迟百分位。"
        )
    }
    /// The advice a load test's steps give (``LoadAdvice``), one sentence each.
    func loadAdvice(_ advice: LoadAdvice) -> String {
        switch advice {
        case .unsaturated(let sweep): return loadUnsaturated(sweep)
        case .batcherWait(let wait): return loadBatcherWait(wait)
        case .hostBound(let bound): return loadHostBound(bound)
        case .padding(let p): return loadPadding(p)
        case .recompiles(let r): return loadRecompiles(r)
        case .coldShapes(let c): return loadColdShapes(c)
        }
    }
    func loadPadding(_ p: LoadAdvice.Padding) -> String {
        let waste =
            p.waste.lowerBound == p.waste.upperBound
            ? Format.factor(p.waste.lowerBound) : "\(Format.factor(p.waste.lowerBound))–\(Format.factor(p.waste.upperBound))"
        let (held, ran) = (String(format: "%.0f", p.meanTokens), String(format: "%.0f", p.meanPaddedTokens))
        // Past a quarter wasted, the trade is worth stating: finer padding means more shapes.
        let costly = p.waste.upperBound >= 1.25
        if p.axis == .size {
            return pick(
                "Padding (--image-size \(p.buckets) sizes, each batch of one size): a request's image was \(held) pixels a side on average; padded in batch size only, batches ran \(waste)× the work requested.",
                "填充(--image-size \(p.buckets) 种尺寸,每批同一尺寸):请求图像平均边长 \(held) 像素;仅按批大小填充,批实际运行的工作量为请求的 \(waste) 倍。")
        }
        return pick(
            "Padding (--pad-to \(p.padTo), \(p.buckets) length buckets): a request held \(held) tokens on average and ran at \(ran), so batches, padded in length and in batch size, ran \(waste)× the tokens requested.\(costly ? " A finer --pad-to wastes less, at the cost of more shapes to warm and compile." : "")",
            "填充(--pad-to \(p.padTo),\(p.buckets) 个长度分桶):请求平均 \(held) 个 token,按 \(ran) 个运行,按长度与批大小填充后,批实际运行的 token 数为请求的 \(waste) 倍。\(costly ? "更细的 --pad-to 浪费更少,代价是需要预热和编译更多形状。" : "")"
        )
    }
    func loadRecompiles(_ r: LoadAdvice.Recompiles) -> String {
        let reasons = r.reasons.map { "“\($0)”" }.joined(separator: pick("; ", ";"))
        let why = reasons.isEmpty ? "" : pick(" (\(reasons))", "(\(reasons))")
        let warmed = r.warmup == "all"
        return pick(
            "torch.compile recompiled \(r.total) time(s) while requests were measured, in \(r.scenarios.joined(separator: ", "))\(why): each recompile held its batch's requests for the compile. \(warmed ? "Every shape was warmed first, so something other than the batch shape sets them off." : "Warm the expected shapes before measuring (--warmup-shapes all) or compile one dynamic graph (--dynamic true).")",
            "测量期间 torch.compile 重新编译了 \(r.total) 次,发生在\(r.scenarios.map(scenario).joined(separator: "、"))中\(why):每次重新编译都让该批的请求等待编译完成。\(warmed ? "所有形状都已预先预热,因此触发重新编译的不是批的形状。" : "请在测量前预热预期的形状(--warmup-shapes all),或编译一个动态图(--dynamic true)。")"
        )
    }
    func loadColdShapes(_ c: LoadAdvice.Cold) -> String {
        let shown = c.shapes.prefix(6).joined(separator: ", ") + (c.shapes.count > 6 ? pick(", …", ",…") : "")
        let (p50, step, most) = (Format.ms(c.p50MS), Format.ms(c.stepP50MS), Format.ms(c.maxMS))
        return pick(
            "Cold shapes: \(c.batches) batch(es), \(c.requests) request(s), ran at a shape (batch×length) their worker had not run before (\(shown)): their P50 was \(p50) ms (max \(most) ms) against \(step) ms for all requests of that step\(c.warmup == "all" ? "" : "; --warmup-shapes all runs them before measuring").",
            "冷形状:\(c.batches) 个批、\(c.requests) 个请求以其 worker 未运行过的形状(批×长度)运行(\(shown)):其 P50 为 \(p50) 毫秒(最大 \(most) 毫秒),而该步骤全部请求为 \(step) 毫秒\(c.warmup == "all" ? "" : ";--warmup-shapes all 会在测量前运行这些形状")。"
        )
    }
    func loadHostBound(_ b: LoadAdvice.HostBound) -> String {
        let (worker, gpu) = (String(format: "%.0f%%", b.workerCPU), String(format: "%.0f%%", b.gpuUtil))
        let starts = b.computeMSByStart.map { Format.ms($0) }.joined(separator: ", ")
        let apart =
            b.computeMSByStart.isEmpty
            ? "" : pick(" Compute per batch was \(starts) ms in the fresh starts of the workers:", " 各次重新启动的 worker 每批计算时间为 \(starts) 毫秒:")
        return pick(
            "Host-bound: at \(Format.qps(b.achievedQPS)) requests/s (\(b.scenario)) the worker was busy \(worker) of the time and the GPU \(gpu), so the worker's host side (Python and kernel launches), not the GPU, bounds the capacity.\(apart) this is the regime in which processes on a cloud VM differ most. Fewer launches per batch (--compile reduce-overhead) or more workers per GPU raise it.",
            "主机侧受限:在 \(Format.qps(b.achievedQPS)) 请求/秒(\(scenario(b.scenario)))时,worker 有 \(worker) 的时间在忙,GPU 仅 \(gpu),因此限制容量的是 worker 的主机侧(Python 与内核启动),而非 GPU。\(apart)云虚拟机上的进程在这种情况下差异最大。减少每批的内核启动(--compile reduce-overhead)或每块 GPU 运行更多 worker 可以提高容量。"
        )
    }
    func loadUnsaturated(_ s: LoadAdvice.Sweep) -> String {
        let achieved = Format.qps(s.achievedQPS)
        switch s.kind {
        case .concurrency:
            let (top, next) = (Int(s.top), s.next.map { String(Int($0)) }.joined(separator: ","))
            let gain = Format.factor(s.gain ?? 1)
            return pick(
                "The sweep never saturated: at concurrency \(top) throughput was still rising (\(gain)× the level before, \(achieved) requests/s), so the limit lies beyond the levels tried; continue with --concurrency \(next).",
                "该扫描未达到饱和:并发 \(top) 时吞吐量仍在上升(为前一级的 \(gain) 倍,\(achieved) 请求/秒),上限在所试级别之外;请继续测试 --concurrency \(next)。")
        case .rate:
            let next = s.next.map { Format.trimmed($0) }
            return pick(
                "The load never saturated: at \(Format.qps(s.top)) requests/s every request was served in time (\(achieved) requests/s achieved, nothing dropped, P99 within 3× P50); try --qps \(next[0]) and --qps \(next[1]), or --find-max-qps --sla-p99 MS for the limit.",
                "负载未达到饱和:在 \(Format.qps(s.top)) 请求/秒下,所有请求都及时完成(达成 \(achieved) 请求/秒,无丢弃,P99 不超过 P50 的 3 倍);可尝试 --qps \(next[0]) 与 --qps \(next[1]),或用 --find-max-qps --sla-p99 MS 寻找上限。"
            )
        }
    }
    func loadBatcherWait(_ w: LoadAdvice.BatcherWait) -> String {
        let levels = w.concurrency.count > 1 ? "\(w.concurrency.min()!)–\(w.concurrency.max()!)" : w.concurrency.first.map(String.init)
        let at =
            levels.map { pick("at concurrency \($0)", "并发 \($0) 时") }
            ?? pick("in \(w.scenarios.joined(separator: ", "))", "在\(w.scenarios.map(scenario).joined(separator: "、"))中")
        let (queue, p50, share) = (Format.ms(w.queueMS), Format.ms(w.p50MS), ReportText.percent(w.share))
        let (batch, delay) = (String(format: "%.1f", w.meanBatch), Format.trimmed(w.maxDelayMS))
        let fix =
            w.suggestedMS == 0
            ? pick(
                "--max-delay 0 dispatches each request as soon as a worker is free", "--max-delay 0 会在 worker 空闲时立即分派每个请求")
            : pick("e.g. --max-delay \(Format.trimmed(w.suggestedMS))", "例如 --max-delay \(Format.trimmed(w.suggestedMS))")
        return pick(
            "Batching delay: \(at) requests waited \(queue) ms on average for batches that never filled (mean batch \(batch) per request, of --max-batch \(w.maxBatch)), \(share) of P50 (\(p50) ms); lower --max-delay (now \(delay) ms): \(fix).",
            "凑批等待:\(at)请求平均等待 \(queue) 毫秒,而批始终未凑满(按请求平均的批大小 \(batch),--max-batch 为 \(w.maxBatch)),占 P50(\(p50) 毫秒)的 \(share);请调低 --max-delay(当前 \(delay) 毫秒):\(fix)。"
        )
    }
    /// A step's scenario in the report's language: `poisson 200 qps` is `泊松 200 请求/秒`.
    func scenario(_ label: String) -> String {
        guard language == .zh else { return label }
        let words = [("concurrency ", "并发 "), ("poisson ", "泊松 "), ("constant ", "恒定 "), ("ramp ", "爬坡 ")]
        var out = label
        for (en, zh) in words where out.hasPrefix(en) { out = zh + out.dropFirst(en.count) }
        if out.hasSuffix(" qps") { out = String(out.dropLast(4)) + " 请求/秒" }
        return out
    }
    var loadInterrupted: String { pick("The test was interrupted: the figures cover only the steps that ran.", "测试被中断:数据只覆盖已运行的步骤。") }
    var loadNoSteps: String { pick("No load step finished.", "没有完成任何负载步骤。") }
    func loadWarned(_ n: Int) -> String {
        n > 0
            ? pick("Review the \(n) warning(s) before relying on these figures.", "在采用这些数据之前,请先查看 \(n) 条警告。")
            : pick("No warnings were raised.", "没有警告。")
    }
    var loadNoWarnings: String { pick("None: every step finished without a warning.", "无:所有步骤均无警告。") }

    // The timeline chart.
    var loadTimelineChart: String {
        pick(
            "Timeline: offered and achieved rate, P50 and P99 per window, and the machine beneath; shaded bands are the steps",
            "时间线:每个窗口的目标速率与达成速率、P50 与 P99,下方为机器状态;底色区块为各测试步骤")
    }
    var kneeChart: String {
        pick(
            "Latency vs throughput: each step's P50 and P99 against the rate it achieved, in order of the load offered (where the line turns up is the knee)",
            "延迟与吞吐量:各步骤的 P50 与 P99 对应其达成速率,按所加负载排序(曲线上翘处即拐点)")
    }
    var achievedAxis: String { pick("achieved requests/s", "达成速率(请求/秒)") }
    var kneeFewForP99: String { pick("no P99 point for a step under 100 requests", "请求少于 100 个的步骤不画 P99") }
    var rateAxis: String { pick("requests/s", "请求/秒") }
    var windowLatencyAxis: String { pick("latency (ms)", "延迟(毫秒)") }
    var secondsAxis: String { pick("seconds", "秒") }
    var offeredLegend: String { pick("offered", "目标速率") }
    var achievedLegend: String { pick("achieved", "达成") }
    var rampLegend: String { pick("ramp target", "爬坡目标") }
    var dropsLegend: String { pick("window with dropped or failed requests", "有丢弃或失败请求的窗口") }
    var slaLegend: String { pick("P99 SLA", "P99 SLA") }
    var passLegend: String { pick("step within the SLA", "满足 SLA 的步骤") }
    var failLegend: String { pick("step beyond the SLA", "超出 SLA 的步骤") }
    var gpuUtilLegend: String { pick("GPU SM utilization %", "GPU SM 利用率 %") }
    var gpuPowerLegend: String { pick("GPU power, % of limit", "GPU 功耗(占上限 %)") }
    var hostCPULegend: String { pick("host CPU utilization %", "主机 CPU 利用率 %") }
}

extension Format {
    /// A rate in requests or samples per second, grouped by thousands from 1,000 up
    /// (`7,174`), else as ``rate(_:)`` (`12.5`).
    static func qps(_ value: Double) -> String {
        guard value.isFinite, value >= 1000 else { return rate(value) }
        let digits = String(Int64(value.rounded()))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return out
    }
}
