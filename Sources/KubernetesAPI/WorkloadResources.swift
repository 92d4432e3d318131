/// The resource types the background scan reads (Pods and the workload controllers) and writes (reports, its Lease).
public enum WorkloadResources {
    public static let pods = KubeResource(group: "", version: "v1", plural: "pods", kind: "Pod")
    public static let deployments = KubeResource(group: "apps", version: "v1", plural: "deployments", kind: "Deployment")
    public static let replicaSets = KubeResource(group: "apps", version: "v1", plural: "replicasets", kind: "ReplicaSet")
    public static let statefulSets = KubeResource(group: "apps", version: "v1", plural: "statefulsets", kind: "StatefulSet")
    public static let daemonSets = KubeResource(group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet")
    public static let jobs = KubeResource(group: "batch", version: "v1", plural: "jobs", kind: "Job")
    public static let cronJobs = KubeResource(group: "batch", version: "v1", plural: "cronjobs", kind: "CronJob")

    /// Everything that runs containers, in the order reports list them.
    public static let all = [pods, deployments, replicaSets, statefulSets, daemonSets, jobs, cronJobs]

    public static let policyReports = KubeResource(group: "wgpolicyk8s.io", version: "v1alpha2", plural: "policyreports", kind: "PolicyReport")
    public static let clusterPolicyReports = KubeResource(group: "wgpolicyk8s.io", version: "v1alpha2", plural: "clusterpolicyreports",
                                                          kind: "ClusterPolicyReport")
    public static let leases = KubeResource(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease")
}
