namespace Actors.Hvctl;

internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    /// <summary>What shells report for a process ended by SIGINT.</summary>
    public const int Interrupted = 130;
}
