namespace Actors.Grains;

/// <summary>
/// A refusal a user can cause and fix (unknown VM, illegal transition, bad configuration, unknown host,
/// missing image). The message is one line that names the problem; clients print it as it is.
/// <see cref="Refusal"/> says which kind of refusal it is, for clients that act on the kind (hvctl's exit code).
/// </summary>
[GenerateSerializer]
[Alias("Actors.HypervisorException")]
public sealed class HypervisorException : Exception
{
    public HypervisorException(string message)
        : base(message)
    {
    }

    public HypervisorException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public HypervisorException(string message, HypervisorRefusal refusal)
        : base(message)
    {
        Refusal = refusal;
    }

    [Id(0)]
    public HypervisorRefusal Refusal { get; private set; }
}
