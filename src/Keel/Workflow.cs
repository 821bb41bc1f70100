namespace Keel;

/// <summary>
/// A durable workflow: plain async C# whose durable operations go through the <see cref="WorkflowContext"/>.
/// </summary>
/// <typeparam name="TInput">The run's input, serialized with System.Text.Json.</typeparam>
/// <typeparam name="TResult">The run's result, serialized with System.Text.Json.</typeparam>
/// <remarks>
/// <para>The worker runs <see cref="RunAsync"/> again from the top whenever a run is resumed, and every operation
/// already in the run's journal returns its recorded outcome. The code must therefore be deterministic: take time,
/// randomness and ids from the context, do I/O only inside steps, and do not use <c>Task.Run</c>,
/// <c>ConfigureAwait(false)</c>, <c>Task.Delay</c> or threads in the workflow body itself.</para>
/// <para>Instances are created through dependency injection for each execution and are not shared between runs.</para>
/// </remarks>
public abstract class Workflow<TInput, TResult> : IWorkflowInvoker
{
    async Task<object?> IWorkflowInvoker.InvokeAsync(WorkflowContext context, object? input) => await RunAsync(context, (TInput)input!);

    /// <summary>Runs the workflow. Called again from the top on every resume.</summary>
    /// <param name="context">The durable context of this run.</param>
    /// <param name="input">The run's input.</param>
    /// <returns>The run's result.</returns>
    public abstract Task<TResult> RunAsync(WorkflowContext context, TInput input);
}

/// <summary>How the engine runs a <see cref="Workflow{TInput, TResult}"/> without knowing its type arguments statically
/// (no generic method made at run time, so registration works in a native AOT app).</summary>
internal interface IWorkflowInvoker
{
    Task<object?> InvokeAsync(WorkflowContext context, object? input);
}
