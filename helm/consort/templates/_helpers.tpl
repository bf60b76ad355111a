{{- define "consort.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "consort.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "consort.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "consort.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "consort.selectorLabels" -}}
app.kubernetes.io/name: {{ include "consort.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "consort.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "consort.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "consort.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret this chart manages (admin key, database password, S3 credentials, as configured). */}}
{{- define "consort.secretName" -}}
{{- include "consort.fullname" . }}
{{- end }}

{{- define "consort.adminKeySecret" -}}
{{- default (include "consort.secretName" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "consort.adminKeySecretKey" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretKey }}{{ else }}admin-key{{ end }}
{{- end }}

{{- define "consort.databaseSecret" -}}
{{- default (include "consort.secretName" .) .Values.database.existingSecret }}
{{- end }}

{{- define "consort.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecretKey }}{{ else }}database-password{{ end }}
{{- end }}

{{/* Static S3 credentials are used when given (in values or in an existing Secret); else the default AWS chain. */}}
{{- define "consort.s3StaticCredentials" -}}
{{- if and (eq .Values.blobs.store "s3") (or .Values.blobs.s3.existingSecret .Values.blobs.s3.accessKeyId) }}true{{ end }}
{{- end }}

{{- define "consort.s3Secret" -}}
{{- default (include "consort.secretName" .) .Values.blobs.s3.existingSecret }}
{{- end }}

{{- define "consort.s3AccessKeyIdKey" -}}
{{- if .Values.blobs.s3.existingSecret }}{{ .Values.blobs.s3.accessKeyIdKey }}{{ else }}s3-access-key-id{{ end }}
{{- end }}

{{- define "consort.s3SecretAccessKeyKey" -}}
{{- if .Values.blobs.s3.existingSecret }}{{ .Values.blobs.s3.secretAccessKeyKey }}{{ else }}s3-secret-access-key{{ end }}
{{- end }}

{{- define "consort.pvcName" -}}
{{- default (printf "%s-blobs" (include "consort.fullname" .)) .Values.blobs.pvc.existingClaim }}
{{- end }}

{{/* Secret settings, each read from a Secret by reference. */}}
{{- define "consort.secretEnv" -}}
- name: CONSORT_ADMIN_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "consort.adminKeySecret" . }}
      key: {{ include "consort.adminKeySecretKey" . }}
- name: SPRING_DATASOURCE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "consort.databaseSecret" . }}
      key: {{ include "consort.databaseSecretKey" . }}
{{- if include "consort.s3StaticCredentials" . }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "consort.s3Secret" . }}
      key: {{ include "consort.s3AccessKeyIdKey" . }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "consort.s3Secret" . }}
      key: {{ include "consort.s3SecretAccessKeyKey" . }}
{{- end }}
{{- end }}

{{/* Probes on the management port: liveness says the JVM is alive, readiness includes the database. */}}
{{- define "consort.probes" -}}
startupProbe:
  httpGet:
    path: /actuator/health/liveness
    port: management
  periodSeconds: {{ .Values.probes.startup.periodSeconds }}
  failureThreshold: {{ .Values.probes.startup.failureThreshold }}
livenessProbe:
  httpGet:
    path: /actuator/health/liveness
    port: management
  periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
  failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /actuator/health/readiness
    port: management
  periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
  failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
{{- end }}

{{/* /data: the shared RWX claim for the filesystem store, else scratch space for staging and the S3 cache. */}}
{{- define "consort.dataVolume" -}}
- name: data
{{- if eq .Values.blobs.store "pvc" }}
  persistentVolumeClaim:
    claimName: {{ include "consort.pvcName" . }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.blobs.scratch.sizeLimit }}
{{- end }}
{{- end }}

{{- define "consort.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- if .Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.managementPort | quote }}
prometheus.io/path: /actuator/prometheus
{{- end }}
{{- end }}
