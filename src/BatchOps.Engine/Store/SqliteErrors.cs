namespace BatchOps.Engine.Store;

/// <summary>SQLite primary result codes the store reacts to.</summary>
internal static class SqliteErrors
{
    public const int Permission = 3;
    public const int Busy = 5;
    public const int Locked = 6;
    public const int ReadOnly = 8;
    public const int Corrupt = 11;
    public const int Full = 13;
    public const int CantOpen = 14;
    public const int NotADatabase = 26;
}
