using Keel.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Keel.Testing;

/// <summary>
/// Replays recorded runs (<see cref="RunArchive"/>, from <c>keel export</c> or <see cref="KeelClient.ExportAsync"/>)
/// against today's workflow code, with no store and no live calls, and reports for each run the first place where code
/// and journal part: the runs a deploy of this code would block. An operation the code asks for beyond the recorded
/// outcomes is never started; if the journal says the run ended there, that is a difference too.
/// </summary>
/// <example>
/// <code>
/// var replayer = new WorkflowReplayer(k => k.AddWorkflow&lt;OrderWorkflow&gt;());
/// var reports = replayer.Replay(RunArchive.Parse(File.ReadAllText("golden-runs.json")));
/// Assert.All(reports, r => Assert.True(r.Compatible, r.Message));
/// </code>
/// </example>
public sealed class WorkflowReplayer : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly WorkflowRegistry _registry;
    private readonly KeelOptions _options;

    /// <summary>Registers the workflows to replay, as for a worker (<c>AddKeel</c>).</summary>
    /// <param name="workflows">Registers the workflows (and may configure <see cref="KeelOptions.SerializerOptions"/>).</param>
    /// <param name="services">Registers what the workflows need from dependency injection.</param>
    public WorkflowReplayer(Action<KeelBuilder> workflows, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(workflows);
        var collection = new ServiceCollection();
        collection.AddOptions<KeelOptions>();
        services?.Invoke(collection);
        var builder = new KeelBuilder(collection);
        workflows(builder);
        _registry = builder.Registry;
        _services = collection.BuildServiceProvider();
        _options = _services.GetRequiredService<IOptions<KeelOptions>>().Value;
    }

    /// <summary>The workflows registered with this replayer.</summary>
    public IReadOnlyCollection<string> Workflows => _registry.Names;

    /// <summary>Replays every run of an archive.</summary>
    /// <param name="archive">The runs.</param>
    /// <returns>One report per run, in the archive's order.</returns>
    public IReadOnlyList<ReplayReport> Replay(RunArchive archive)
    {
        ArgumentNullException.ThrowIfNull(archive);
        return [.. archive.Runs.Select(run => Replay(run, archive.Messages))];
    }

    /// <summary>Replays one run.</summary>
    /// <param name="run">The run and its journal.</param>
    /// <returns>What the replay found.</returns>
    public ReplayReport Replay(ArchivedRun run) => Replay(run, null);

    /// <summary>Replays one run whose journal refers to stored messages (Keel.AI's conversations).</summary>
    /// <param name="run">The run and its journal.</param>
    /// <param name="messages">The stored messages it refers to, by hash (<see cref="RunArchive.Messages"/>); null for none.</param>
    /// <returns>What the replay found.</returns>
    public ReplayReport Replay(ArchivedRun run, IReadOnlyDictionary<string, string>? messages)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!_registry.TryGet(run.WorkflowName, out var definition))
        {
            return new ReplayReport(run.RunId, run.WorkflowName, false, false, 0, null, null,
                $"Workflow '{run.WorkflowName}' is not registered with this replayer: register it, or leave its runs out.");
        }
        var outcome = HermeticReplay.Run(definition, run.ToRunInfo(), run.Journal, _services, _options.SerializerOptions, messages);
        return new ReplayReport(run.RunId, run.WorkflowName, outcome.Compatible, outcome.CodeReturned, outcome.Position, outcome.Recorded,
            outcome.Requested, outcome.Message);
    }

    /// <inheritdoc />
    public void Dispose() => _services.Dispose();
}

/// <summary>What replaying one recorded run found.</summary>
/// <param name="RunId">The run.</param>
/// <param name="WorkflowName">Its workflow.</param>
/// <param name="Compatible">The code asks for what the journal recorded, everywhere: a worker running this code would
/// resume the run.</param>
/// <param name="CodeReturned">The workflow code returned (or threw) by the end of the journal.</param>
/// <param name="Position">Where code and journal first part (0 when they agree).</param>
/// <param name="Recorded">What the journal recorded there.</param>
/// <param name="Requested">What the code asks for now.</param>
/// <param name="Message">The difference, in one sentence; null when compatible.</param>
public sealed record ReplayReport(string RunId, string WorkflowName, bool Compatible, bool CodeReturned, int Position, string? Recorded,
    string? Requested, string? Message);
