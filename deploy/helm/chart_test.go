package helm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/alaya-sre/alaya/internal/testenv"
)

const chart = "alaya"

// valueSets are the installs CI renders: the defaults, everything optional turned on, and the
// approval page.
var valueSets = []string{"", "testdata/full.yaml", "testdata/page.yaml"}

func helm(t *testing.T, args ...string) []byte {
	t.Helper()
	path, err := exec.LookPath("helm")
	testenv.Require(t, "helm (scripts/install-deps.sh)", err == nil)
	var stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

func TestLint(t *testing.T) {
	for _, values := range valueSets {
		args := []string{"lint", "--strict", chart}
		if values != "" {
			args = append(args, "-f", values)
		}
		helm(t, args...)
	}
}

// TestRenderedManifestsDecodeStrictly renders each value set and decodes every document into
// its Kubernetes API type with unknown fields refused, then checks what an operator relies on.
func TestRenderedManifestsDecodeStrictly(t *testing.T) {
	for _, values := range valueSets {
		name := values
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"template", "rel", chart, "--namespace", "ops"}
			if values != "" {
				args = append(args, "-f", values)
			}
			m := decodeAll(t, helm(t, args...))
			checkWorker(t, m)
			checkReceiver(t, m)
			checkConfigs(t, m)
			checkSecretsAreReferencesOnly(t, m)
		})
	}
}

// manifests holds the decoded objects by kind and name.
type manifests struct {
	deployments  map[string]*appsv1.Deployment
	services     map[string]*corev1.Service
	configMaps   map[string]*corev1.ConfigMap
	pdbs         map[string]*policyv1.PodDisruptionBudget
	secrets      map[string]*corev1.Secret
	monitors     map[string]*serviceMonitor
	statefulSets map[string]*appsv1.StatefulSet
}

// serviceMonitor is the part of the Prometheus Operator's type the chart writes; decoding
// strictly into it catches a misspelt field as the real CRD's validation would.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func decodeAll(t *testing.T, rendered []byte) *manifests {
	t.Helper()
	m := &manifests{deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		secrets: map[string]*corev1.Secret{}, monitors: map[string]*serviceMonitor{}, statefulSets: map[string]*appsv1.StatefulSet{}}
	for i, doc := range docSep.Split(string(rendered), -1) {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("document %d is not YAML: %v\n%s", i, err, doc)
		}
		if string(js) == "null" {
			continue
		}
		var meta metav1.TypeMeta
		if err := json.Unmarshal(js, &meta); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if err := m.decode(meta, js); err != nil {
			t.Errorf("%s: %v\n%s", meta.Kind, err, doc)
		}
	}
	return m
}

// decode decodes one document by its kind, refusing fields the API type does not have.
func (m *manifests) decode(meta metav1.TypeMeta, js []byte) error {
	var obj interface{ GetName() string }
	switch meta.APIVersion + " " + meta.Kind {
	case "apps/v1 Deployment":
		obj = &appsv1.Deployment{}
	case "apps/v1 StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "v1 Service":
		obj = &corev1.Service{}
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1 Secret":
		obj = &corev1.Secret{}
	case "v1 ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "v1 Pod":
		obj = &corev1.Pod{}
	case "policy/v1 PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "monitoring.coreos.com/v1 ServiceMonitor":
		obj = &serviceMonitor{}
	default:
		return fmt.Errorf("kind %s %s is not checked by this test: add it", meta.APIVersion, meta.Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return err
	}
	name := obj.GetName()
	switch o := obj.(type) {
	case *appsv1.Deployment:
		m.deployments[name] = o
	case *appsv1.StatefulSet:
		m.statefulSets[name] = o
	case *corev1.Service:
		m.services[name] = o
	case *corev1.ConfigMap:
		m.configMaps[name] = o
	case *corev1.Secret:
		m.secrets[name] = o
	case *policyv1.PodDisruptionBudget:
		m.pdbs[name] = o
	case *serviceMonitor:
		m.monitors[name] = o
	}
	return nil
}
