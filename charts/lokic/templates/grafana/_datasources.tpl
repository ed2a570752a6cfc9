{{/* Grafana's provisioned data sources: lokic as Loki. */}}
{{- define "lokic.grafana.datasources" -}}
apiVersion: 1
datasources:
  - name: {{ .Values.grafana.datasource.name | quote }}
    type: loki
    uid: lokic
    access: proxy
    url: {{ include "lokic.grafana.datasourceUrl" . }}
    isDefault: {{ .Values.grafana.datasource.isDefault }}
    editable: true
    version: 1
    jsonData:
      maxLines: {{ .Values.grafana.datasource.maxLines }}
      {{- with include "lokic.tenant" . }}
      httpHeaderName1: X-Scope-OrgID
    secureJsonData:
      httpHeaderValue1: {{ . | quote }}
      {{- end }}
{{ end -}}
