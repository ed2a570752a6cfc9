{{/*
promtail's configuration: the kubernetes-pods job of loki-stack's promtail
(every container's log under /var/log/pods, labelled with namespace, pod,
container, app, ...), pushing to lokic.
*/}}
{{- define "lokic.promtail.config" -}}
server:
  log_level: info
  http_listen_port: {{ .Values.promtail.port }}
  grpc_listen_port: 0
positions:
  filename: /run/promtail/positions.yaml
clients:
  - url: {{ include "lokic.promtail.pushUrl" . }}
    {{- with include "lokic.tenant" . }}
    tenant_id: {{ . }}
    {{- end }}
    {{- with .Values.promtail.externalLabels }}
    external_labels:
      {{- toYaml . | nindent 6 }}
    {{- end }}
scrape_configs:
  - job_name: kubernetes-pods
    pipeline_stages:
      {{- toYaml .Values.promtail.pipelineStages | nindent 6 }}
    kubernetes_sd_configs:
      - role: pod
    relabel_configs:
      # Only the pods of this node (promtail sets __host__ from HOSTNAME).
      - source_labels: [__meta_kubernetes_pod_node_name]
        target_label: __host__
      - source_labels: [__meta_kubernetes_pod_controller_name]
        regex: ([0-9a-z-.]+?)(-[0-9a-f]{8,10})?
        action: replace
        target_label: __tmp_controller_name
      - source_labels:
          - __meta_kubernetes_pod_label_app_kubernetes_io_name
          - __meta_kubernetes_pod_label_app
          - __tmp_controller_name
          - __meta_kubernetes_pod_name
        regex: ^;*([^;]+)(;.*)?$
        action: replace
        target_label: app
      - source_labels:
          - __meta_kubernetes_pod_label_app_kubernetes_io_instance
          - __meta_kubernetes_pod_label_instance
        regex: ^;*([^;]+)(;.*)?$
        action: replace
        target_label: instance
      - source_labels:
          - __meta_kubernetes_pod_label_app_kubernetes_io_component
          - __meta_kubernetes_pod_label_component
        regex: ^;*([^;]+)(;.*)?$
        action: replace
        target_label: component
      - action: replace
        source_labels: [__meta_kubernetes_pod_node_name]
        target_label: node_name
      - action: replace
        source_labels: [__meta_kubernetes_namespace]
        target_label: namespace
      - action: replace
        replacement: $1
        separator: /
        source_labels: [namespace, app]
        target_label: job
      - action: replace
        source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
      - action: replace
        source_labels: [__meta_kubernetes_pod_container_name]
        target_label: container
      - action: replace
        replacement: /var/log/pods/*$1/*.log
        separator: /
        source_labels: [__meta_kubernetes_pod_uid, __meta_kubernetes_pod_container_name]
        target_label: __path__
      - action: replace
        regex: true/(.*)
        replacement: /var/log/pods/*$1/*.log
        separator: /
        source_labels:
          - __meta_kubernetes_pod_annotationpresent_kubernetes_io_config_hash
          - __meta_kubernetes_pod_annotation_kubernetes_io_config_hash
          - __meta_kubernetes_pod_container_name
        target_label: __path__
      {{- with .Values.promtail.extraRelabelConfigs }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
  {{- with .Values.promtail.extraScrapeConfigs }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{ end -}}
