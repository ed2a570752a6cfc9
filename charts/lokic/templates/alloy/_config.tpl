{{/*
Alloy's configuration (Alloy syntax): this node's pods found through the
Kubernetes API, labelled as loki-stack's promtail kubernetes-pods job labels
them (namespace, pod, container, app, instance, component, node_name, job),
their logs read from /var/log/pods (gatherMethod volumes) or streamed from
the API server (kubernetesApi), and pushed to lokic with the tenant.
*/}}
{{- define "lokic.alloy.config" -}}
// This node's pods: NODE_NAME is the pod's spec.nodeName.
discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("NODE_NAME")
  }
}

// The labels of loki-stack's promtail kubernetes-pods job.
discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_pod_controller_name"]
    regex         = "([0-9a-z-.]+?)(-[0-9a-f]{8,10})?"
    target_label  = "__tmp_controller_name"
  }
  rule {
    source_labels = [
      "__meta_kubernetes_pod_label_app_kubernetes_io_name",
      "__meta_kubernetes_pod_label_app",
      "__tmp_controller_name",
      "__meta_kubernetes_pod_name",
    ]
    regex        = "^;*([^;]+)(;.*)?$"
    target_label = "app"
  }
  rule {
    source_labels = [
      "__meta_kubernetes_pod_label_app_kubernetes_io_instance",
      "__meta_kubernetes_pod_label_instance",
    ]
    regex        = "^;*([^;]+)(;.*)?$"
    target_label = "instance"
  }
  rule {
    source_labels = [
      "__meta_kubernetes_pod_label_app_kubernetes_io_component",
      "__meta_kubernetes_pod_label_component",
    ]
    regex        = "^;*([^;]+)(;.*)?$"
    target_label = "component"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_node_name"]
    target_label  = "node_name"
  }
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["namespace", "app"]
    separator     = "/"
    replacement   = "$1"
    target_label  = "job"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  {{- if eq .Values.alloy.gatherMethod "volumes" }}
  rule {
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    replacement   = "/var/log/pods/*$1/*.log"
    target_label  = "__path__"
  }
  // Static pods: their directory is named after the config hash.
  rule {
    source_labels = [
      "__meta_kubernetes_pod_annotationpresent_kubernetes_io_config_hash",
      "__meta_kubernetes_pod_annotation_kubernetes_io_config_hash",
      "__meta_kubernetes_pod_container_name",
    ]
    separator     = "/"
    regex         = "true/(.*)"
    replacement   = "/var/log/pods/*$1/*.log"
    target_label  = "__path__"
  }
  {{- end }}
  {{- with .Values.alloy.extraRelabelRules }}
  {{- . | trim | nindent 2 }}
  {{- end }}
}
{{- if eq .Values.alloy.gatherMethod "volumes" }}

// The containers' log files on this node (hostPath /var/log/pods).
local.file_match "pods" {
  path_targets = discovery.relabel.pods.output
}

loki.source.file "pods" {
  targets    = local.file_match.pods.targets
  forward_to = [loki.process.pods.receiver]
}

// The container runtime's line format.
loki.process "pods" {
  stage.{{ .Values.alloy.logFormat }} {}
  {{- with .Values.alloy.extraStages }}
  {{- . | trim | nindent 2 }}
  {{- end }}
  forward_to = [loki.write.lokic.receiver]
}
{{- else }}

// The containers' logs streamed from the API server (pods/log).
loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.process.pods.receiver]
}

loki.process "pods" {
  {{- with .Values.alloy.extraStages }}
  {{- . | trim | nindent 2 }}
  {{- end }}
  forward_to = [loki.write.lokic.receiver]
}
{{- end }}

loki.write "lokic" {
  endpoint {
    url = {{ include "lokic.alloy.pushUrl" . | toJson }}
    {{- with include "lokic.tenant" . }}
    tenant_id = {{ . | toJson }}
    {{- end }}
  }
  {{- with .Values.alloy.externalLabels }}
  external_labels = {
    {{- range $k, $v := . }}
    {{ $k | toJson }} = {{ $v | toString | toJson }},
    {{- end }}
  }
  {{- end }}
}
{{- with .Values.alloy.extraConfig }}

{{ . | trim }}
{{- end }}
{{ end -}}
