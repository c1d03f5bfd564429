import Foundation

/// The seed's app: a Deployment with 3 replicas and a Service, image demo:<version>.
public func seedManifests(version: String, replicas: Int = 3, extra: String = "") -> String {
    """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {app: web}
    spec:
      replicas: \(replicas)
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
            - name: web
              image: demo:\(version)
              ports: [{containerPort: 8080}]
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: web
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
    \(extra)
    """
}

/// The seed scenario's `.pipe.yaml`, a PipeCD user's config that must run unchanged (docs/app-config.md).
public let seedPipeYAML = """
    apiVersion: pipecd.dev/v1beta1
    kind: KubernetesApp
    spec:
      pipeline:
        stages:
          - name: K8S_CANARY_ROLLOUT
            with:
              replicas: 60%
          - name: WAIT
            with:
              duration: 10s
          - name: K8S_PRIMARY_ROLLOUT
          - name: K8S_CANARY_CLEAN

    """

/// The same with a name (`web-app`), for tests that give the function an app directory of their own.
public let seedAppConfig = seedPipeYAML.replacingOccurrences(of: "spec:\n", with: "spec:\n  name: web-app\n")

/// A generic app (no platform) whose pipeline is one SCRIPT_RUN of `run`.
public func scriptRunApp(name: String, run: String = "true") -> String {
    """
    apiVersion: gantry.dev/v1
    spec:
      name: \(name)
      pipeline:
        stages:
          - name: SCRIPT_RUN
            with: {run: "\(run)"}
    """
}
