using Actors.Bench;

try
{
    return BenchCommandLine.Run(args);
}
catch (BenchUsageException ex)
{
    Console.Error.WriteLine($"actors-bench: {ex.Message}");
    return 2;
}
