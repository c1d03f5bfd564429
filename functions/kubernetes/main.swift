// The Kubernetes platform: K8S_* stages and ROLLBACK for KubernetesApp deployments, through the real kubectl
// (Sources/KubernetesPlatform). Safe to re-invoke: each applying stage checkpoints what it applies.
import Foundation
import FunctionKit
import KubernetesPlatform

FunctionIO.main { event in
    KubernetesStages.run(event, environment: ProcessInfo.processInfo.environment)
}
