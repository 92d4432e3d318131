import Foundation

/// A compiled regular expression run by a Pike VM: all alternatives advance together over the text,
/// so matching takes time proportional to text length × program size, whatever the pattern.
struct RegexProgram: Sendable {
    enum Instruction: Sendable {
        case literal(Unicode.Scalar, foldCase: Bool)
        case any(matchesNewline: Bool)
        case set(Int)
        case split(Int, Int)
        case jump(Int)
        case assertion(RegexAssertion)
        case match
    }

    static let maxInstructions = 20_000
    private(set) var instructions: [Instruction] = []
    private(set) var sets: [RegexSet] = []

    init(_ pattern: String) throws {
        try emit(try RegexParser.parse(pattern))
        instructions.append(.match)
    }

    private mutating func append(_ i: Instruction) throws -> Int {
        if instructions.count >= Self.maxInstructions { throw CELError.eval("regular expression too large") }
        instructions.append(i)
        return instructions.count - 1
    }

    private mutating func emit(_ node: RegexNode) throws {
        switch node {
        case .empty: break
        case .literal(let c, let fold): _ = try append(.literal(c, foldCase: fold))
        case .any(let nl): _ = try append(.any(matchesNewline: nl))
        case .set(let s):
            sets.append(s)
            _ = try append(.set(sets.count - 1))
        case .assertion(let a): _ = try append(.assertion(a))
        case .concat(let items): for item in items { try emit(item) }
        case .alternate(let branches):
            // split L1, next; L1: branch; jump end; next: split ... — jumps patched once the end is known.
            var jumps: [Int] = []
            for (i, branch) in branches.enumerated() {
                if i < branches.count - 1 {
                    let split = try append(.split(0, 0))
                    try emit(branch)
                    jumps.append(try append(.jump(0)))
                    instructions[split] = .split(split + 1, instructions.count)
                } else {
                    try emit(branch)
                }
            }
            for j in jumps { instructions[j] = .jump(instructions.count) }
        case .repeating(let body, let min, let max):
            for _ in 0..<min { try emit(body) }
            if let max {
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(try append(.split(0, 0)))
                    try emit(body)
                }
                for s in splits { instructions[s] = .split(s + 1, instructions.count) }
            } else {
                let split = try append(.split(0, 0))
                try emit(body)
                _ = try append(.jump(split))
                instructions[split] = .split(split + 1, instructions.count)
            }
        }
    }

    /// Whether the pattern matches anywhere in `text`; `charge` is called with work done, to bound it.
    func matches(_ text: String, charge: (Int) throws -> Void) throws -> Bool {
        let chars = Array(text.unicodeScalars)
        var current = ThreadList(capacity: instructions.count)
        var next = ThreadList(capacity: instructions.count)
        var work = 0
        for i in 0...chars.count {
            add(0, at: i, chars, &current)  // unanchored: a new attempt starts at every position
            for t in 0..<current.count {
                let pc = current.pcs[t]
                switch instructions[pc] {
                case .match:
                    return true
                case .literal(let c, let fold):
                    if i < chars.count, chars[i] == c || (fold && RegexSet.caseVariants(chars[i]).contains(c)) {
                        add(pc + 1, at: i + 1, chars, &next)
                    }
                case .any(let nl):
                    if i < chars.count, nl || chars[i] != "\n" { add(pc + 1, at: i + 1, chars, &next) }
                case .set(let s):
                    if i < chars.count, sets[s].contains(chars[i]) { add(pc + 1, at: i + 1, chars, &next) }
                default:
                    break
                }
            }
            work += current.count + 1
            if work > 4096 { try charge(work / 16); work = 0 }
            swap(&current, &next)
            next.clear()
            if current.count == 0, i < chars.count, instructions.count > 0, case .assertion(.textStart) = instructions[0] {
                return false  // anchored at the start and every thread died
            }
        }
        try charge(work / 16)
        return false
    }

    /// Adds the thread at `pc` and everything reachable from it without consuming a character.
    private func add(_ start: Int, at i: Int, _ chars: [Unicode.Scalar], _ list: inout ThreadList) {
        var stack = [start]
        while let pc = stack.popLast() {
            guard list.insert(pc) else { continue }
            switch instructions[pc] {
            case .jump(let to): stack.append(to)
            case .split(let a, let b): stack.append(b); stack.append(a)
            case .assertion(let a): if holds(a, at: i, chars) { stack.append(pc + 1) }
            default: break
            }
        }
    }

    private func holds(_ a: RegexAssertion, at i: Int, _ chars: [Unicode.Scalar]) -> Bool {
        switch a {
        case .textStart: return i == 0
        case .textEnd: return i == chars.count
        case .lineStart: return i == 0 || chars[i - 1] == "\n"
        case .lineEnd: return i == chars.count || chars[i] == "\n"
        case .wordBoundary, .notWordBoundary:
            let before = i > 0 && Self.isWord(chars[i - 1])
            let after = i < chars.count && Self.isWord(chars[i])
            return (before != after) == (a == .wordBoundary)
        }
    }

    private static func isWord(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
    }

    /// A sparse set of program counters: O(1) insert, membership and clear.
    struct ThreadList {
        private(set) var pcs: [Int]
        private var index: [Int]
        private(set) var count = 0

        init(capacity: Int) {
            pcs = Array(repeating: 0, count: capacity)
            index = Array(repeating: 0, count: capacity)
        }

        /// false if already present.
        mutating func insert(_ pc: Int) -> Bool {
            let at = index[pc]
            if at < count, pcs[at] == pc { return false }
            index[pc] = count
            pcs[count] = pc
            count += 1
            return true
        }

        mutating func clear() { count = 0 }
    }
}

/// Compiled patterns by source, so a constant pattern is parsed once and not per evaluation.
final class RegexCache: @unchecked Sendable {
    static let shared = RegexCache()
    private let lock = NSLock()
    private var programs: [String: RegexProgram] = [:]

    func program(_ pattern: String) throws -> RegexProgram {
        lock.lock()
        let cached = programs[pattern]
        lock.unlock()
        if let cached { return cached }
        let program = try RegexProgram(pattern)
        lock.lock()
        if programs.count >= 256 { programs.removeAll() }
        programs[pattern] = program
        lock.unlock()
        return program
    }
}

enum UnicodeCategories {
    typealias C = Unicode.GeneralCategory
    static let letters: Set<C> = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter]
    static let marks: Set<C> = [.nonspacingMark, .spacingMark, .enclosingMark]
    static let numbers: Set<C> = [.decimalNumber, .letterNumber, .otherNumber]
    static let punctuation: Set<C> = [.connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                                      .initialPunctuation, .finalPunctuation, .otherPunctuation]
    static let symbols: Set<C> = [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol]
    static let separators: Set<C> = [.spaceSeparator, .lineSeparator, .paragraphSeparator]
    static let other: Set<C> = [.control, .format, .surrogate, .privateUse, .unassigned]

    static let named: [String: Set<C>] = [
        "L": letters, "Lu": [.uppercaseLetter], "Ll": [.lowercaseLetter], "Lt": [.titlecaseLetter], "Lm": [.modifierLetter],
        "Lo": [.otherLetter], "M": marks, "Mn": [.nonspacingMark], "N": numbers, "Nd": [.decimalNumber], "Nl": [.letterNumber],
        "No": [.otherNumber], "P": punctuation, "S": symbols, "Sm": [.mathSymbol], "Sc": [.currencySymbol], "Z": separators,
        "Zs": [.spaceSeparator], "C": other, "Cc": [.control], "Cf": [.format],
    ]

    static let posix: [String: [ClosedRange<UInt32>]] = [
        "alnum": [48...57, 65...90, 97...122], "alpha": [65...90, 97...122], "ascii": [0...127], "blank": [9...9, 32...32],
        "cntrl": [0...31, 127...127], "digit": [48...57], "graph": [33...126], "lower": [97...122], "print": [32...126],
        "punct": [33...47, 58...64, 91...96, 123...126], "space": [9...13, 32...32], "upper": [65...90],
        "word": [48...57, 65...90, 97...122, 95...95], "xdigit": [48...57, 65...70, 97...102],
    ]
}
