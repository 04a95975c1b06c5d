namespace BatchOps.Sql;

/// <summary>What a sql operation does with each item's row.</summary>
public enum SqlMode
{
    /// <summary>Adds every row.</summary>
    Insert,

    /// <summary>Adds rows whose key is new and updates the others.</summary>
    Upsert,

    /// <summary>Changes the rows matched by key.</summary>
    Update,

    /// <summary>Removes the rows matched by key.</summary>
    Delete,
}
