using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>
/// Settings of approval links: signed, expiring, single-use links that let a reviewer without an API key answer one
/// approval (sent by email or chat). Configure with <c>services.Configure&lt;KeelApprovalLinkOptions&gt;(o =&gt; o.Secret = ...)</c>
/// (or bind a configuration section) before <c>MapKeelApi</c>, or <c>keel serve --link-secret</c>.
/// </summary>
public sealed class KeelApprovalLinkOptions
{
    /// <summary>The secret that signs links (at least 32 characters). When null, a random secret of this process signs them
    /// and links stop working when it restarts; servers that share one API must share one secret.</summary>
    public string? Secret { get; set; }

    /// <summary>How long a link works when its maker does not say (one day).</summary>
    public TimeSpan DefaultLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The longest a link may work (seven days).</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromDays(7);

    internal void Validate()
    {
        if (Secret is { Length: < 32 })
        {
            throw new ArgumentException("The approval link secret is shorter than 32 characters: use a random secret (e.g. `openssl rand -hex 32`).");
        }
        if (DefaultLifetime <= TimeSpan.Zero || MaxLifetime < DefaultLifetime)
        {
            throw new ArgumentException("Approval links need a positive default lifetime no longer than their maximum lifetime.");
        }
    }
}

/// <summary>
/// Makes and checks approval links. A link names one approval request (run, position, name), the reviewer it is for and
/// when it expires, signed with HMAC-SHA256. It is single-use because the request it names can be decided only once: a
/// second use finds it decided (by whom, when) and changes nothing. The token travels in the page's fragment and in a
/// JSON body, never in a URL the server logs; the calls take no cookie, so another site cannot make a browser send one.
/// </summary>
internal sealed class ApprovalLinks
{
    private readonly byte[] _secret;
    private readonly KeelApprovalLinkOptions _options;

    public ApprovalLinks(KeelApprovalLinkOptions options)
    {
        options.Validate();
        _options = options;
        _secret = options.Secret is { } secret ? Encoding.UTF8.GetBytes(secret) : RandomNumberGenerator.GetBytes(32);
    }

    /// <summary>What a link says: which request, for whom, made by whom, until when.</summary>
    internal sealed record Claims(string RunId, int Sequence, string Name, string Reviewer, string? MadeBy, DateTimeOffset ExpiresAt);

    public (string Token, DateTimeOffset ExpiresAt) Make(PendingApproval approval, string reviewer, string? madeBy, TimeSpan? lifetime, DateTimeOffset now)
    {
        var life = lifetime ?? _options.DefaultLifetime;
        if (life <= TimeSpan.Zero || life > _options.MaxLifetime)
        {
            throw new ApiRequestException(StatusCodes.Status400BadRequest,
                $"A link may work from 1 minute to {_options.MaxLifetime.TotalMinutes:0} minutes; asked for {life.TotalMinutes:0}.");
        }
        var expires = now + life;
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Claims(approval.RunId, approval.Sequence, approval.Name, reviewer, madeBy,
            DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds())), ApiJson.Options);
        return (Base64Url.EncodeToString(claims) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_secret, claims)), expires);
    }

    /// <summary>The claims of a token this server signed, unexpired; refused clearly otherwise.</summary>
    public Claims Read(string? token, DateTimeOffset now)
    {
        var dot = token?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        byte[] claims, signature;
        try
        {
            if (dot <= 0)
            {
                throw new FormatException();
            }
            claims = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            throw Refused(StatusCodes.Status400BadRequest, "This is not an approval link token: copy the whole link you were sent.");
        }
        if (!CryptographicOperations.FixedTimeEquals(signature, HMACSHA256.HashData(_secret, claims)))
        {
            throw Refused(StatusCodes.Status403Forbidden,
                "This approval link is not valid: it was changed, or made by another server or before its secret changed. Ask for a new link.");
        }
        var read = JsonSerializer.Deserialize<Claims>(claims, ApiJson.Options)!;
        if (now >= read.ExpiresAt)
        {
            throw Refused(StatusCodes.Status410Gone, $"This approval link expired at {read.ExpiresAt:u}. Nothing was changed; ask for a new link.");
        }
        return read;
    }

    private static ApiRequestException Refused(int status, string message) => new(status, message);
}
