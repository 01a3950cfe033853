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
    /// <summary>A refusal of no particular kind (<see cref="HypervisorRefusal.Refused"/>).</summary>
    /// <param name="message">One line that names the problem and, where it can, the fix.</param>
    public HypervisorException(string message)
        : base(message)
    {
    }

    /// <summary>A refusal caused by another failure, kept as the inner exception.</summary>
    /// <param name="message">One line that names the problem and, where it can, the fix.</param>
    /// <param name="inner">The failure behind the refusal.</param>
    public HypervisorException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>A refusal of a kind clients may act on.</summary>
    /// <param name="message">One line that names the problem and, where it can, the fix.</param>
    /// <param name="refusal">Which kind of refusal this is.</param>
    public HypervisorException(string message, HypervisorRefusal refusal)
        : base(message)
    {
        Refusal = refusal;
    }

    /// <summary>Which kind of refusal this is; <see cref="HypervisorRefusal.Refused"/> unless the thrower said otherwise.</summary>
    [Id(0)]
    public HypervisorRefusal Refusal { get; private set; }
}
