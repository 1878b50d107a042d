using System.ComponentModel.DataAnnotations;

namespace Anchor.Orleans.Grains.Sessions;

/// <summary>Caps and lifetimes of browser sessions (<c>Anchor:Sessions</c>).</summary>
public sealed class SessionsOptions
{
    public const string SectionName = "Sessions";

    /// <summary>Browser sessions open at once, cluster-wide.</summary>
    [Range(1, 100_000)]
    public int MaxConcurrent { get; set; } = 5;

    /// <summary>Sessions one client may hold open at once.</summary>
    [Range(1, 100_000)]
    public int MaxPerClient { get; set; } = 3;

    /// <summary>A session is closed this long after it opened.</summary>
    [Range(1, 86_400)]
    public int MaxDurationSeconds { get; set; } = 300;

    /// <summary>A session with no call for this long is closed.</summary>
    [Range(1, 86_400)]
    public int IdleTimeoutSeconds { get; set; } = 120;

    /// <summary>How often leaked or expired sessions and leases are swept.</summary>
    [Range(1, 3_600)]
    public int CleanupIntervalSeconds { get; set; } = 60;

    /// <summary>
    /// How long a session request waits, fairly queued, for a free slot before <c>concurrency_limit</c>; 0 refuses at once.
    /// </summary>
    [Range(0, 3_600)]
    public int QueueTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Whether a session whose silo died (killed, crashed, lost from the cluster) is restored from its last checkpoint
    /// on the next call, on another silo. Off: it ends as lost and answers <c>session_expired</c>, as before.
    /// Sessions of a silo that drains are moved either way.
    /// </summary>
    public bool RestoreOnLoss { get; set; } = true;

    /// <summary>
    /// Whether sessions write checkpoints (with Redis grain storage only). Off: no cookies or storage of a session are
    /// ever written to Redis, a draining silo closes its sessions and a lost silo's sessions end.
    /// </summary>
    public bool Checkpoints { get; set; } = true;

    /// <summary>
    /// The largest cookies-and-storage state a checkpoint keeps; a session holding more is restored without it (its
    /// tabs still reopen) and says so.
    /// </summary>
    [Range(1_024, 16 * 1024 * 1024)]
    public int CheckpointMaxBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// A new session is not opened on a silo whose process tree (the silo, its Chromium and renderers) uses more than
    /// this percentage of the CPU it may use (cgroup quota, else all cores), averaged over 2 s; placement sends it to a
    /// silo under its thresholds, and when none is, it is refused with <c>concurrency_limit</c>. Restores are never refused.
    /// 100 turns the check off.
    /// </summary>
    [Range(1, 100)]
    public int MaxCpuPercent { get; set; } = 90;

    /// <summary>As <see cref="MaxCpuPercent"/> for memory (PSS of the process tree ÷ the cgroup limit, else MemTotal); 100 turns it off.</summary>
    [Range(1, 100)]
    public int MaxMemoryPercent { get; set; } = 90;

    /// <summary>One tool call's limit.</summary>
    [Range(1, 3_600)]
    public int ActionTimeoutSeconds { get; set; } = 180;
}
