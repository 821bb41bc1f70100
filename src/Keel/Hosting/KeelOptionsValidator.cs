using Microsoft.Extensions.Options;

namespace Keel.Hosting;

/// <summary>
/// Checks <see cref="KeelOptions"/>' <c>[Range]</c> attributes with code generated at compile time: the same rules as
/// DataAnnotations validation without its reflection, which cost ~30 ms of every cold start (a restart's recovery time).
/// </summary>
[OptionsValidator]
internal sealed partial class KeelOptionsValidator : IValidateOptions<KeelOptions>;
