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
            return Problem(status, ex);
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

    private static IResult Problem(int status, Exception exception) =>
        Results.Problem(statusCode: status, title: Title(status), detail: Detail(exception),
            extensions: new Dictionary<string, object?> { ["error"] = exception is ApiRequestException ? RequestError(status) : exception.GetType().Name.Replace("Exception", "", StringComparison.Ordinal) });

    private static string RequestError(int status) => status == StatusCodes.Status415UnsupportedMediaType ? "UnsupportedMediaType" : "BadRequest";

    private static string Title(int status) => status switch
    {
        StatusCodes.Status404NotFound => "Not found",
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
