using System.Diagnostics;

namespace BatchOps.Engine.Store;

/// <summary>Who runs a job now: the owner's host and process, and its last heartbeat.</summary>
/// <param name="Host">Machine name of the owner.</param>
/// <param name="ProcessId">Process id of the owner.</param>
/// <param name="ProcessStartedAt">When the owner process started, so a reused process id is not mistaken for the owner.</param>
/// <param name="HeartbeatAt">Last time the owner renewed the lease.</param>
public sealed record JobLease(string Host, int ProcessId, DateTimeOffset ProcessStartedAt, DateTimeOffset HeartbeatAt)
{
    /// <summary>A lease not renewed for this long is considered abandoned (owner on another machine, or frozen).</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(30);

    /// <summary>A lease for the current process.</summary>
    public static JobLease ForCurrentProcess(DateTimeOffset now)
    {
        using var self = Process.GetCurrentProcess();
        return new JobLease(Environment.MachineName, Environment.ProcessId, StartTimeOf(self), now);
    }

    /// <summary>Whether this lease and <paramref name="other"/> name the same process.</summary>
    public bool SameOwnerAs(JobLease other) =>
        string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase) && ProcessId == other.ProcessId
        && Math.Abs((ProcessStartedAt - other.ProcessStartedAt).TotalSeconds) < 1;

    /// <summary>
    /// Whether the owner still runs. On this machine the process table answers at once (so a killed run is
    /// resumable immediately); for another machine only a fresh heartbeat counts.
    /// </summary>
    public bool IsAlive(DateTimeOffset now)
    {
        if (!string.Equals(Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
        {
            return now - HeartbeatAt < Expiry;
        }

        try
        {
            using var process = Process.GetProcessById(ProcessId);
            return !process.HasExited && Math.Abs((StartTimeOf(process) - ProcessStartedAt).TotalSeconds) < 1;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static DateTimeOffset StartTimeOf(Process process)
    {
        try
        {
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (Exception error) when (error is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return DateTimeOffset.MinValue;
        }
    }
}
