namespace Keel;

/// <summary>
/// Compensations for a sequence of steps (a saga): each step that completed registers how to undo it; on failure or
/// cancellation <see cref="CompensateAsync"/> runs them in reverse order, each as a durable step of its own (journaled
/// once, so none runs twice across crashes), even when the run was cancelled. Create one with
/// <see cref="WorkflowContext.CreateSaga"/>; use it from workflow code only.
/// </summary>
public sealed class Saga
{
    private readonly WorkflowContext _context;
    private readonly List<(string Name, Func<Task> Compensate)> _compensations = [];

    internal Saga(WorkflowContext context) => _context = context;

    /// <summary>The compensations registered so far, oldest first.</summary>
    public IReadOnlyList<string> Registered => [.. _compensations.Select(c => c.Name)];

    /// <summary>Runs a step and, once it completed, registers its compensation.</summary>
    /// <typeparam name="T">The step's result.</typeparam>
    /// <param name="name">The step's durable name; its compensation is the step <c>compensate:NAME</c>.</param>
    /// <param name="body">The step body.</param>
    /// <param name="compensate">Undoes the step, given its result. Runs as an <see cref="StepEffect.Idempotent"/> step
    /// unless <paramref name="compensationOptions"/> says otherwise: use its idempotency key with the API it calls.</param>
    /// <param name="options">The step's options.</param>
    /// <param name="compensationOptions">The compensation step's options.</param>
    /// <returns>The step's result.</returns>
    public async Task<T> StepAsync<T>(string name, Func<StepContext, Task<T>> body, Func<StepContext, T, Task> compensate,
        StepOptions? options = null, StepOptions? compensationOptions = null)
    {
        ArgumentNullException.ThrowIfNull(compensate);
        var result = await _context.StepAsync(name, body, options);
        AddCompensation(name, sc => compensate(sc, result), compensationOptions);
        return result;
    }

    /// <summary>Registers a compensation for work done outside <see cref="StepAsync{T}"/>.</summary>
    /// <param name="name">What it undoes; the compensation is the step <c>compensate:NAME</c>.</param>
    /// <param name="compensate">The compensation's body.</param>
    /// <param name="options">Its step options (default: <see cref="StepEffect.Idempotent"/>).</param>
    public void AddCompensation(string name, Func<StepContext, Task> compensate, StepOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(compensate);
        var stepOptions = options ?? new StepOptions { Effect = StepEffect.Idempotent };
        _compensations.Add((name, () => _context.StepAsync($"compensate:{name}", compensate, stepOptions)));
    }

    /// <summary>
    /// Runs the registered compensations in reverse order, each as a durable step, in a non-cancellable scope (so they
    /// run after the run was cancelled). Call it where the workflow catches the failure or cancellation, then rethrow.
    /// A compensation that fails for good stops the rest, and its failure is thrown.
    /// </summary>
    /// <returns>A task that completes when every compensation has run.</returns>
    public async Task CompensateAsync()
    {
        using var scope = _context.NonCancellable();
        for (var i = _compensations.Count - 1; i >= 0; i--)
        {
            await _compensations[i].Compensate();
        }
        _compensations.Clear();
    }
}
