using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Keel.Server;

/// <summary>
/// Turns what a call throws into an RFC 9457 problem response whose <c>detail</c> says what was wrong and what to do
/// (the same sentence the library and the CLI give). Unexpected failures are logged and answered without internals.
/// </summary>
internal sealed partial class ApiErrors(ILogger<ApiErrors> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (OperationCanceledException) when (context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception ex) when (Classify(ex) is { } status)
        {
            return Problem(status, ex, status == StatusCodes.Status409Conflict ? await WaitingStepAsync(context.HttpContext, ex) : null);
        }
        catch (Exception ex)
        {
            LogUnexpected(logger, ex, context.HttpContext.Request.Method, context.HttpContext.Request.Path);
            return Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Internal error",
                detail: "The server failed to handle the request; its log has the details.");
        }
    }

    /// <summary>The status for an expected failure; null for a bug.</summary>
    internal static int? Classify(Exception exception) => exception switch
    {
        ApiRequestException request => request.StatusCode,
        RunNotFoundException => StatusCodes.Status404NotFound,
        RunFinishedException or RunStateException or ApprovalNotPendingException or WorkflowAlreadyExistsException => StatusCodes.Status409Conflict,
        WorkflowNotFoundException or InvalidWorkflowInputException or ArgumentException or JsonException => StatusCodes.Status400BadRequest,
        PayloadTooLargeException => StatusCodes.Status413PayloadTooLarge,
        StorageException => StatusCodes.Status503ServiceUnavailable,
        _ => null,
    };

    private static IResult Problem(int status, Exception exception, (StepAttention Attention, string RunPath)? waiting = null)
    {
        var extensions = new Dictionary<string, object?>
        {
            ["error"] = exception is ApiRequestException ? RequestError(status) : exception.GetType().Name.Replace("Exception", "", StringComparison.Ordinal),
        };
        var detail = Detail(exception);
        if (waiting is var (attention, runPath))
        {
            // A call refused because of the run's state, while a step of it waits for a person: say how to decide it.
            detail = $"{detail} {NextActions.ResolveHint(attention, runPath)}";
            extensions["resolve"] = $"{runPath}/resolve";
            extensions["attention"] = attention;
        }
        return Results.Problem(statusCode: status, title: Title(status), detail: detail, extensions: extensions);
    }

    /// <summary>The step a NeedsAttention run waits on, when a call about that run was refused for its state (not a
    /// refused resolve: a decision is on its way then); null otherwise, or when the run cannot be read.</summary>
    private static async Task<(StepAttention, string)?> WaitingStepAsync(HttpContext context, Exception exception)
    {
        if (exception is RunFinishedException || context.Request.Path.Value?.EndsWith("/resolve", StringComparison.Ordinal) == true
            || context.Request.RouteValues["runId"] is not string route || context.RequestServices.GetService(typeof(KeelClient)) is not KeelClient keel)
        {
            return null;
        }
        try
        {
            var history = await keel.GetHistoryAsync(KeelApi.RouteValue(route), context.RequestAborted);
            return history is { Run.Status: RunStatus.NeedsAttention, Attention: { } attention } ? (attention, KeelApi.RunPath(context.Request)) : null;
        }
        catch (Exception ex) when (ex is KeelException or ArgumentException or OperationCanceledException)
        {
            return null; // the refusal stands on its own
        }
    }

    private static string RequestError(int status) => status switch
    {
        StatusCodes.Status415UnsupportedMediaType => "UnsupportedMediaType",
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status409Conflict => "Conflict",
        StatusCodes.Status410Gone => "Gone",
        _ => "BadRequest",
    };

    private static string Title(int status) => status switch
    {
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status410Gone => "Gone",
        StatusCodes.Status409Conflict => "Conflict with the run's state",
        StatusCodes.Status413PayloadTooLarge => "Body too large",
        StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
        StatusCodes.Status503ServiceUnavailable => "Store unavailable",
        _ => "Bad request",
    };

    /// <summary>The message without the "(Parameter 'x')" suffix that means nothing to an HTTP caller.</summary>
    private static string Detail(Exception exception) =>
        exception is ArgumentException ? exception.Message.Split(" (Parameter '", 2)[0] : exception.Message;

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Unexpected failure handling {Method} {Path}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path);
}
