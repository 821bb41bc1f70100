using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Keel.AI;

/// <summary>
/// A tool as the function-invoking client sees it inside a workflow: each call is a journaled step with the tool's effect
/// kind, after a Keel approval when the tool requires one. Outside a workflow it is the tool itself.
/// </summary>
internal sealed class DurableTool : DelegatingAIFunction
{
    private readonly KeelToolOptions _options;

    public DurableTool(AIFunction inner) : base(inner) => _options = OptionsFor(inner);

    /// <summary>A tool's options: <see cref="KeelTools.WithOptions"/>, else its method's <see cref="ToolEffectAttribute"/>;
    /// approval when either says so or it is wrapped in <see cref="ApprovalRequiredAIFunction"/>.</summary>
    public static KeelToolOptions OptionsFor(AIFunction function)
    {
        var configured = function.GetService<KeelToolOptions>();
        var effect = configured?.Effect ?? function.UnderlyingMethod?.GetCustomAttribute<ToolEffectAttribute>()?.Effect ?? StepEffect.Retryable;
        return (configured ?? new KeelToolOptions()) with
        {
            Effect = effect,
            RequiresApproval = (configured?.RequiresApproval ?? false) || function.GetService<ApprovalRequiredAIFunction>() is not null,
        };
    }

    // Approval is Keel's here: the function-invoking client must call the tool, not turn the call into an approval request.
    public override object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ApprovalRequiredAIFunction) ? null : base.GetService(serviceType, serviceKey);

    protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken) =>
        WorkflowContext.Current is { } context
            ? new ValueTask<object?>(InvokeDurablyAsync(context, InnerFunction, _options, arguments))
            : base.InvokeCoreAsync(arguments, cancellationToken);

    /// <summary>Calls <paramref name="function"/> as a journaled step of the run (after its approval, if it needs one).</summary>
    public static async Task<object?> InvokeDurablyAsync(WorkflowContext context, AIFunction function, KeelToolOptions options, AIFunctionArguments arguments)
    {
        var proposed = JsonSerializer.SerializeToElement(arguments, ArgumentsInfo);
        // What the model decided, for the person who reads the run; its outcome is the approval and the step below.
        context.RecordToolChoice(function.Name, RunAIState.For(context).Usage.Model, proposed);
        if (options.RequiresApproval)
        {
            var decision = await context.RequestApprovalAsync(new ApprovalRequest<JsonElement>
            {
                Name = function.Name,
                Title = $"The model asks to call the tool '{function.Name}'",
                Details = function.Description,
                Action = StepName(function),
                Arguments = proposed,
            }).ConfigureAwait(false);
            if (!decision.IsApproved)
            {
                // Back to the model as the tool's result, so it can tell the user or try something else.
                var who = decision.DecidedBy is { } by ? $" by {by}" : "";
                return decision.Outcome == ApprovalOutcome.Expired
                    ? $"The call to '{function.Name}' was not approved in time; it did not run."
                    : $"The call to '{function.Name}' was rejected{who}; it did not run.{(decision.Comment is { } comment ? $" Comment: {comment}" : "")}";
            }
            if (decision.ArgumentsEdited && decision.Arguments.ValueKind == JsonValueKind.Object)
            {
                var edited = new AIFunctionArguments { Services = arguments.Services, Context = arguments.Context };
                foreach (var property in decision.Arguments.EnumerateObject())
                {
                    edited[property.Name] = property.Value.Clone();
                }
                arguments = edited;
            }
        }
        var result = await context.StepAsync(StepName(function), async step =>
        {
            KeelTools.EnterStep(step);
            var value = ToJson(await function.InvokeAsync(arguments, step.CancellationToken).ConfigureAwait(false), function.JsonSerializerOptions);
            if (context.Messages is { } messages && ChatRecord.Canonical(value) is { Length: >= ChatRecord.InlineResultBytes } bytes)
            {
                // A long result is stored once, by hash: the message that gives it to the model refers to the same one.
                var blob = ChatRecord.Blob(bytes);
                messages.Stage([blob]);
                return ChatRecord.ResultReference(blob.Hash);
            }
            return value;
        }, new StepOptions { Effect = options.Effect ?? StepEffect.Retryable, Retry = options.Retry, CheckUnknownOutcome = options.CheckUnknownOutcome }).ConfigureAwait(false);
        result = ChatRecord.ReadToolResult(result, context.Messages);
        // A string goes back to the model as text, as the tool itself returned it.
        return result.ValueKind switch { JsonValueKind.Null => null, JsonValueKind.String => result.GetString(), _ => result };
    }

    public static string StepName(AIFunction function) => $"tool {function.Name}";

    private static System.Text.Json.Serialization.Metadata.JsonTypeInfo ArgumentsInfo { get; } =
        AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>));

    private static JsonElement ToJson(object? value, JsonSerializerOptions options) => value switch
    {
        null => s_null,
        JsonElement element => element,
        _ => JsonSerializer.SerializeToElement(value, (options ?? AIJsonUtilities.DefaultOptions).GetTypeInfo(value.GetType())),
    };

    private static readonly JsonElement s_null = JsonDocument.Parse("null").RootElement.Clone();
}
