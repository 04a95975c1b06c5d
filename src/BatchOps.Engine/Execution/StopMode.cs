namespace BatchOps.Engine.Execution;

/// <summary>How a stop request treats the items already running.</summary>
public enum StopMode
{
    /// <summary>Nothing new starts; running items finish; items not started end Cancelled.</summary>
    Graceful = 0,

    /// <summary>As graceful, and running attempts are cancelled (their items end Cancelled).</summary>
    Forced = 1,
}
