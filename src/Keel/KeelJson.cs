using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Keel.Engine;

namespace Keel;

/// <summary>The JSON settings Keel uses for its own records and, by default, for inputs, results and step outcomes.</summary>
/// <remarks>
/// Keel's own records are described by source-generated metadata, so they serialize in a native AOT or trimmed app.
/// Your own types (inputs, results, step values, signal payloads) are resolved by <see cref="KeelOptions.SerializerOptions"/>:
/// by reflection where that is enabled (the .NET default), or by the <see cref="JsonSerializerContext"/> you put in its
/// <see cref="JsonSerializerOptions.TypeInfoResolverChain"/> in a native AOT app.
/// </remarks>
public static class KeelJson
{
    /// <summary>Web defaults (camelCase, case-insensitive reads) with enums as strings.</summary>
    public static JsonSerializerOptions Default { get; } = CreateDefault();

    /// <summary>
    /// <see cref="Default"/>, with the JSON Keel holds as text — a run's input and result (<see cref="RunInfo"/>), journal
    /// payloads (<see cref="JournalEntry.Payload"/>, <see cref="RejectedSignal.Payload"/>), an approval's proposed
    /// arguments (<see cref="PendingApproval.ArgumentsJson"/>, named <c>arguments</c>) — written as JSON values instead of
    /// escaped strings, and read back from them: the settings of Keel's HTTP API and of the CLI's <c>--json</c> output.
    /// </summary>
    /// <remarks>Text that is not JSON (never stored by Keel itself) is written as a string.</remarks>
    public static JsonSerializerOptions PayloadsAsValues { get; } = CreatePayloadsAsValues();

    private static JsonSerializerOptions CreatePayloadsAsValues()
    {
        var options = new JsonSerializerOptions(Default);
        options.TypeInfoResolver = Default.TypeInfoResolver!.WithAddedModifier(JsonTextProperties.Modify);
        options.MakeReadOnly();
        return options;
    }

    private static JsonSerializerOptions CreateDefault()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            Converters =
            {
                new JsonStringEnumConverter<RunStatus>(), new JsonStringEnumConverter<ApprovalOutcome>(),
                new JsonStringEnumConverter<StepResolutionAction>(), new JsonStringEnumConverter<OperationKind>(),
            },
        };
        options.TypeInfoResolverChain.Add(KeelJsonContext.Default);
        if (JsonSerializer.IsReflectionEnabledByDefault)
        {
            AddReflection(options);
        }
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Any other type by reflection, its enums as strings: what <see cref="Default"/> has always done.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only where reflection-based serialization is enabled, as JsonSerializer itself does.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only where reflection-based serialization is enabled, as JsonSerializer itself does.")]
    private static void AddReflection(JsonSerializerOptions options)
    {
        options.Converters.Add(new JsonStringEnumConverter());
        options.TypeInfoResolverChain.Add(new DefaultJsonTypeInfoResolver());
    }

    /// <summary>The contract of <typeparamref name="T"/> under <paramref name="options"/>.</summary>
    internal static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options) => (JsonTypeInfo<T>)TypeInfo(options, typeof(T));

    /// <summary>The contract of <paramref name="type"/> under <paramref name="options"/>; options without a resolver get
    /// the reflection-based one first, as <see cref="JsonSerializer"/> gives them (unless reflection is disabled).</summary>
    internal static JsonTypeInfo TypeInfo(JsonSerializerOptions options, Type type)
    {
        if (!options.IsReadOnly)
        {
            Lock(options);
        }
        return options.GetTypeInfo(type);
    }

    internal static string Serialize<T>(T value, JsonSerializerOptions options) => JsonSerializer.Serialize(value, TypeInfo<T>(options));

    internal static T? Deserialize<T>(string json, JsonSerializerOptions options) => JsonSerializer.Deserialize(json, TypeInfo<T>(options));

    /// <summary>One of Keel's own records from a payload it journaled or sent; null when there is none or it does not read
    /// (an older or malformed payload), which each caller handles as it sees fit.</summary>
    internal static T? TryRead<T>(string? json) where T : class
    {
        if (json is null)
        {
            return null;
        }
        try
        {
            return Deserialize<T>(json, Default);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Populates the reflection resolver only where reflection-based serialization is enabled, as JsonSerializer itself does.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Populates the reflection resolver only where reflection-based serialization is enabled, as JsonSerializer itself does.")]
    private static void Lock(JsonSerializerOptions options)
    {
        try
        {
            options.MakeReadOnly(populateMissingResolver: JsonSerializer.IsReflectionEnabledByDefault);
        }
        catch (InvalidOperationException ex) when (options.TypeInfoResolver is null)
        {
            throw new InvalidOperationException(
                "Keel's JSON options have no TypeInfoResolver and reflection-based serialization is disabled (a native AOT or trimmed app): " +
                "add your JsonSerializerContext to KeelOptions.SerializerOptions, e.g. " +
                "new JsonSerializerOptions(KeelJson.Default) { TypeInfoResolver = JsonTypeInfoResolver.Combine(MyJsonContext.Default, KeelJson.Default.TypeInfoResolver) }.", ex);
        }
    }
}

/// <summary>Keel's own records, described at compile time.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ErrorInfo))]
[JsonSerializable(typeof(RunCustomStatus))]
[JsonSerializable(typeof(ApprovalRequestData))]
[JsonSerializable(typeof(ApprovalDecisionData))]
[JsonSerializable(typeof(ChildOutcomeData))]
[JsonSerializable(typeof(StepResolutionData))]
[JsonSerializable(typeof(RecoveryPointData))]
[JsonSerializable(typeof(OperatorActionData))]
[JsonSerializable(typeof(ClaimData))]
[JsonSerializable(typeof(ReleaseData))]
[JsonSerializable(typeof(ForkData))]
[JsonSerializable(typeof(BlockData))]
[JsonSerializable(typeof(AttentionReason))]
[JsonSerializable(typeof(RunArchive))]
[JsonSerializable(typeof(RunHistory))]
[JsonSerializable(typeof(RunHandoff))]
[JsonSerializable(typeof(WaitStartData))]
[JsonSerializable(typeof(ToolChoiceData))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, IReadOnlyList<string>>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(IEnumerable<string>))]
[JsonSerializable(typeof(IEnumerable<long>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(string))]
internal sealed partial class KeelJsonContext : JsonSerializerContext;

/// <summary>Keel's own records, described at compile time: other option sets.</summary>
internal sealed partial class KeelJsonContext
{
    /// <summary>Indented, with enums by name: the format of <see cref="RunArchive"/>.</summary>
    public static KeelJsonContext Indented { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter<RunStatus>(), new JsonStringEnumConverter<JournalEntryKind>() },
    });
}
