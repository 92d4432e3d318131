// helmrender renders a Helm chart offline with the same engine Helm uses:
// Go's text/template plus sprig, and the Helm-specific functions this chart
// needs (include, tpl, toYaml, fromYaml, required, lookup). Helm itself is not
// installable in the test environment; Debian ships sprig and yaml.v3 as Go
// sources, so this builds in GOPATH mode without any network:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOTOOLCHAIN=local GOPROXY=off go build -o helmrender .
//	helmrender -chart charts/sealgate [-f extra-values.yaml]... [-name R] [-namespace NS] [-notes NOTES.out] > rendered.yaml
//
// What it mirrors from Helm 3 (helm template): values.yaml merged with each -f
// file in order (maps merge deeply, a null deletes a key), .Release, .Chart,
// .Capabilities (KubeVersion, APIVersions.Has), .Files.Get, .Template; templates
// whose names start with "_" are only definitions; NOTES.txt is rendered
// separately; missing keys render as empty; lookup returns an empty map as it
// does in `helm template`, or an object from the -lookup file (an upgrade). Documents are emitted per template file with a
// "# Source:" comment like Helm.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	// GOPATH mode: Debian installs sprig v3 at .../sprig (its go.mod says
	// module .../sprig/v3); the /v3 suffix is only resolved for code inside GOPATH.
	sprig "github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v3"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// APIVersions mirrors Helm's chartutil.VersionSet.
type APIVersions []string

func (a APIVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type KubeVersion struct{ Version, Major, Minor, GitVersion string }

func (k KubeVersion) String() string { return k.Version }

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions APIVersions
}

// Files mirrors the parts of Helm's .Files used by charts: Get and Glob-free access.
type Files map[string][]byte

func (f Files) Get(name string) string { return string(f[name]) }
func (f Files) GetBytes(name string) []byte { return f[name] }

func main() {
	var files valueFiles
	chartDir := flag.String("chart", "", "chart directory")
	name := flag.String("name", "sealgate", "release name")
	namespace := flag.String("namespace", "sealgate-system", "release namespace")
	notesOut := flag.String("notes", "", "write the rendered NOTES.txt here")
	kubeVersion := flag.String("kube-version", "v1.31.0", "Capabilities.KubeVersion")
	apiVersions := flag.String("api-versions", "", "comma-separated extra Capabilities.APIVersions (e.g. monitoring.coreos.com/v1)")
	lookupFile := flag.String("lookup", "", "YAML documents that `lookup` finds, as if they existed in the cluster (an upgrade)")
	flag.Var(&files, "f", "values file (repeatable, later wins)")
	flag.Parse()
	if *chartDir == "" {
		fail(errors.New("-chart is required"))
	}
	if *lookupFile != "" {
		if err := loadCluster(*lookupFile); err != nil {
			fail(err)
		}
	}
	out, notes, err := render(*chartDir, files, *name, *namespace, *kubeVersion, *apiVersions)
	if err != nil {
		fail(err)
	}
	os.Stdout.WriteString(out)
	if *notesOut != "" {
		if err := os.WriteFile(*notesOut, []byte(notes), 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(1)
}

// cluster holds the objects `lookup` can find (-lookup); empty means a fresh
// install, like `helm template`.
var cluster []map[string]interface{}

func loadCluster(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	for {
		obj := map[string]interface{}{}
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", file, err)
		}
		if len(obj) > 0 {
			cluster = append(cluster, obj)
		}
	}
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// mergeValues merges src over dst like Helm's coalescing of user values over
// chart defaults: nested maps merge, anything else replaces, null removes.
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	// Helm's toYaml trims the trailing newline.
	return strings.TrimSuffix(buf.String(), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func render(chartDir string, valueFiles []string, releaseName, namespace, kubeVersion, extraAPIs string) (string, string, error) {
	chartMeta, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", "", err
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", "", err
	}
	for _, f := range valueFiles {
		override, err := readYAMLMap(f)
		if err != nil {
			return "", "", err
		}
		values = mergeValues(values, override)
	}

	// .Chart fields are capitalised in Helm (.Chart.Name, .Chart.AppVersion).
	chart := map[string]interface{}{}
	for k, v := range chartMeta {
		chart[strings.ToUpper(k[:1])+k[1:]] = v
	}
	chartName, _ := chart["Name"].(string)

	// .Files: every file in the chart except templates/.
	allFiles := Files{}
	err = filepath.Walk(chartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		if strings.HasPrefix(rel, "templates"+string(filepath.Separator)) {
			return nil
		}
		data, err := os.ReadFile(p)
		allFiles[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		return "", "", err
	}

	kv := strings.TrimPrefix(kubeVersion, "v")
	parts := strings.SplitN(kv, ".", 3)
	if len(parts) < 2 {
		return "", "", fmt.Errorf("bad -kube-version %q", kubeVersion)
	}
	apis := APIVersions{"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v2", "rbac.authorization.k8s.io/v1",
		"admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1"}
	for _, a := range strings.Split(extraAPIs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			apis = append(apis, a)
		}
	}
	top := map[string]interface{}{
		"Values":  values,
		"Chart":   chart,
		"Release": map[string]interface{}{"Name": releaseName, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
		"Capabilities": Capabilities{
			KubeVersion: KubeVersion{Version: "v" + kv, Major: parts[0], Minor: parts[1], GitVersion: "v" + kv},
			APIVersions: apis,
		},
		"Files": allFiles,
	}

	// Load every template into one set so include/define work across files.
	tmplDir := filepath.Join(chartDir, "templates")
	var names []string
	err = filepath.Walk(tmplDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return "", "", err
	}
	sort.Strings(names)

	root := template.New("gotpl")
	// Helm renders missing keys as empty (and strips "<no value>").
	root.Option("missingkey=zero")
	includedDepth := 0
	funcs := sprig.TxtFuncMap()
	// Helm removes these two for safety; do the same.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	funcs["lookup"] = func(apiVersion, kind, ns, name string) (map[string]interface{}, error) {
		for _, obj := range cluster {
			meta, _ := obj["metadata"].(map[string]interface{})
			objNS, _ := meta["namespace"].(string)
			if obj["apiVersion"] == apiVersion && obj["kind"] == kind && objNS == ns && meta["name"] == name {
				return obj, nil
			}
		}
		return map[string]interface{}{}, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		includedDepth++
		defer func() { includedDepth-- }()
		if includedDepth > 100 {
			return "", errors.New("include: recursion too deep")
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	root.Funcs(funcs)

	for _, n := range names {
		src, err := os.ReadFile(filepath.Join(chartDir, n))
		if err != nil {
			return "", "", err
		}
		if _, err := root.New(chartName + "/" + n).Parse(string(src)); err != nil {
			return "", "", err
		}
	}

	var out strings.Builder
	notes := ""
	for _, n := range names {
		base := path.Base(n)
		if strings.HasPrefix(base, "_") {
			continue
		}
		full := chartName + "/" + n
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": full, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, full, data); err != nil {
			return "", "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			notes = text
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		for _, doc := range splitDocs(text) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", full, strings.TrimRight(strings.TrimLeft(doc, "\n"), "\n"))
		}
	}
	return out.String(), notes, nil
}

// splitDocs splits a rendered file at YAML document separators.
func splitDocs(s string) []string {
	var docs []string
	var cur []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimRight(line, " \t") == "---" {
			docs = append(docs, strings.Join(cur, "\n"))
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return append(docs, strings.Join(cur, "\n"))
}

func stripComments(doc string) string {
	var keep []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
