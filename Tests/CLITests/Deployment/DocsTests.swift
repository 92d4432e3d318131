import Foundation
import Testing
import TestSupport

/// docs/INSTALL.md: the commands it gives point at things that exist.
@Suite struct InstallDocTests {
    let doc = (try? Deploy.read("docs/INSTALL.md")) ?? ""

    @Test func hasHelmAndKubectlInstallCommands() {
        #expect(!doc.isEmpty, "docs/INSTALL.md is missing")
        #expect(doc.contains("# Install in a cluster"))
        #expect(doc.contains("helm upgrade --install sealgate charts/sealgate"))
        #expect(doc.contains("kubectl apply -k deploy/"))
        #expect(doc.contains("kubectl apply -k deploy/cert-manager"))
        #expect(doc.contains("kubectl label namespace demo policy.sigstore.dev/include=true"))
        for topic in ["denied the request", "mode: warn", "failureAction: Audit", "failurePolicy", "cert-manager.io/inject-ca-from",
                      "/metrics", "ServiceMonitor"] {
            #expect(doc.contains(topic), "INSTALL.md does not cover \(topic)")
        }
    }

    /// Repository paths named in the doc exist.
    @Test func namedPathsExist() throws {
        let regex = try NSRegularExpression(pattern: #"(?<![\w/.-])((?:deploy|charts|policies|docs)/[\w./-]*)"#)
        let ns = doc as NSString
        let paths = Set(regex.matches(in: doc, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) })
        #expect(paths.count >= 8)
        for p in paths {
            let clean = p.trimmingCharacters(in: CharacterSet(charactersIn: ".,)`"))
            #expect(FileManager.default.fileExists(atPath: Deploy.path(clean)), "INSTALL.md names \(clean), which does not exist")
        }
    }

    /// Every `--set key=...` refers to a key that values.yaml defines (or a child of a map it defines).
    @Test func setFlagsNameChartValues() throws {
        guard let python = Deploy.tool("python3", "reads values.yaml") else { return }
        let regex = try NSRegularExpression(pattern: #"--set(?:-file)? ([A-Za-z][\w.\\]*)="#)
        let ns = doc as NSString
        let keys = Set(regex.matches(in: doc, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) })
        #expect(keys.count >= 6)
        let script = """
        import sys, yaml, re
        values = yaml.safe_load(open(sys.argv[1]))
        bad = []
        for key in sys.argv[2:]:
            parts = [p.replace('\\\\', '') for p in re.split(r'(?<!\\\\)\\.', key)]
            node = values
            for i, part in enumerate(parts):
                if isinstance(node, dict) and part in node:
                    node = node[part]
                elif isinstance(node, dict) and i > 0:   # new key under an existing map (e.g. policies.inline.x)
                    break
                else:
                    bad.append(key); break
        print("\\n".join(bad))
        """
        let out = try Subprocess.run(python, ["-c", script, Deploy.path("charts/sealgate/values.yaml")] + keys.sorted(), timeout: 60)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "unknown chart values in INSTALL.md: \(out.stdout)")
    }
}
