namespace Keel.Storage;

/// <summary>The rule <see cref="IWorkflowStore.AppendRunRecordAsync"/> holds for the entries it takes.</summary>
public static class RunRecords
{
    /// <summary>Throws unless <paramref name="record"/> is a run record in no position (never replayed).</summary>
    /// <param name="record">The entry.</param>
    /// <exception cref="ArgumentException">It is not.</exception>
    public static void Validate(JournalEntry record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Sequence != 0 || JournalKinds.RoleOf(record.Kind) != EntryRole.RunRecord)
        {
            throw new ArgumentException(
                $"Only run records in no position can be journaled from outside a run; {record.Kind} at position {record.Sequence} is not one.", nameof(record));
        }
    }
}
