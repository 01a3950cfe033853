namespace Actors.Hvctl;

internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    /// <summary>A create refused because the name is taken (and no --replace was given).</summary>
    public const int AlreadyExists = 3;

    // What 'run' returns for a guest that ended without a status of its own. Even numbers: an
    // isa-debug-exit status is always odd, and 0 is an ACPI poweroff.
    public const int GuestReset = 4;
    public const int GuestFailed = 6;
    public const int GuestStopped = 8;

    /// <summary>What shells report for a process ended by SIGINT.</summary>
    public const int Interrupted = 130;
}
