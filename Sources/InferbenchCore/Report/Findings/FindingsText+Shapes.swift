import Foundation

extension FindingsText {
    /// "bert-base, default/fp16 at batch 1: static graphs compile 41.2 s over 4 lengths, one
    /// dynamic graph 12.0 s; static runs 1.12–1.31× faster per length, so its extra 29.2 s pays
    /// back after 61,000 calls." Each length's figures follow.
    func shapeStrategies(_ s: Findings.ShapeStrategies) -> String {
        let who = "\(subject(s.model, s.environment)), \(s.family) " + pick("at batch \(s.batch)", "批大小 \(s.batch)")
        let n = s.lengths.count
        let compile = pick(
            "static graphs compile \(text.seconds(s.staticCompileS)) over \(n) lengths, one dynamic graph \(text.seconds(s.dynamicCompileS))",
            "静态图在 \(n) 个长度上共编译 \(text.seconds(s.staticCompileS)),一个动态图 \(text.seconds(s.dynamicCompileS))")
        let ratios = s.lengths.compactMap(\.speedup)
        let speed: String
        if ratios.contains(where: \.significant) {
            speed = pick(
                "static over dynamic per length: \(range(ratios.map(\.ratio), Format.factor))×",
                "各长度静态图相对动态图:\(range(ratios.map(\.ratio), Format.factor))×")
        } else {
            speed = pick("no length shows a measurable difference in speed", "各长度的速度均无可测差异")
        }
        let verdict: String
        switch s.payback {
        case nil:
            verdict = pick("static compiled no longer, so nothing is to be paid back", "静态图编译不更久,无需回本")
        case .never?:
            verdict = pick(
                "static's extra compile never pays back: prefer the dynamic graph (one compile serves every length)",
                "静态图多出的编译时间永远无法回本:优先用动态图(一次编译覆盖所有长度)")
        case .after(let calls)?:
            verdict = pick(
                "static's extra \(text.seconds(s.staticCompileS - s.dynamicCompileS)) pays back after \(Format.count(calls)) calls spread over these lengths",
                "静态图多出的 \(text.seconds(s.staticCompileS - s.dynamicCompileS)) 在这些长度上 \(Format.count(calls)) 次调用后回本")
        }
        let each = s.lengths.map { l in
            pick(
                "\(l.length): \(Format.ms(l.staticP50)) vs \(Format.ms(l.dynamicP50)) ms",
                "\(l.length):\(Format.ms(l.staticP50)) 对 \(Format.ms(l.dynamicP50)) 毫秒")
        }
        return pick(
            "\(who): \(compile); \(speed); \(verdict) (p50 static vs dynamic, by length: \(list(each))).",
            "\(who):\(compile);\(speed);\(verdict)(p50 静态对动态,按长度:\(list(each)))。")
    }
}
