using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Actors.Client.Tests.Kubernetes;

/// <summary>
/// Runs <c>SchemaValidator/validate-manifests.mjs</c>: kubernetes-models' JSON schemas of the Kubernetes API
/// (generated from its OpenAPI spec) applied to each manifest by node, offline. The first use installs the
/// pinned npm packages into a cache directory (~/.cache/actors); later runs reuse it.
/// <para>
/// Why this validator: kubectl validates only against a live API server's schema, and the Python
/// kubernetes-validate is on PyPI, which these machines cannot reach; node and npm come from Debian
/// (<c>apt-get install nodejs npm</c>) and the npm registry is reachable.
/// </para>
/// </summary>
internal static class KubernetesSchemaValidator
{
    private const string Setup = "apt-get install nodejs npm";

    private static readonly Lazy<Task<string>> Installed = new(InstallAsync);

    public sealed record Result(int ExitCode, string Output);

    /// <summary>Validates every document of <paramref name="files"/>; exit code 0 when all are valid.</summary>
    public static async Task<Result> ValidateAsync(IEnumerable<string> files)
    {
        string script = await Installed.Value;
        return await RunAsync("node", [script, .. files], Path.GetDirectoryName(script)!, TimeSpan.FromMinutes(2));
    }

    private static async Task<string> InstallAsync()
    {
        string source = Path.Combine(HvctlEndToEndTests.RepoRoot(), "tests", "Actors.Client.Tests", "Kubernetes", "SchemaValidator");
        byte[] package = await File.ReadAllBytesAsync(Path.Combine(source, "package.json"));
        byte[] script = await File.ReadAllBytesAsync(Path.Combine(source, "validate-manifests.mjs"));
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        // Keyed by what is installed and run, so a changed package.json or script gets a fresh directory.
        string key = Convert.ToHexStringLower(SHA256.HashData([.. package, .. script]))[..16];
        string directory = Path.Combine(cache, "actors", "kubernetes-schema-validator", key);
        string installedScript = Path.Combine(directory, "validate-manifests.mjs");
        if (File.Exists(Path.Combine(directory, "node_modules", "kubernetes-models", "package.json")) && File.Exists(installedScript))
            return installedScript;

        Result node = await RunAsync("node", ["--version"], source, TimeSpan.FromMinutes(1), missing: "node");
        Assert.True(node.ExitCode == 0, $"node does not run ({node.Output.Trim()}); install it: {Setup}");

        // Install beside the final directory and move it into place whole, so a run that dies half-way, or
        // another test process installing at the same time, never leaves a directory that looks complete.
        string staging = $"{directory}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        await File.WriteAllBytesAsync(Path.Combine(staging, "package.json"), package);
        await File.WriteAllBytesAsync(Path.Combine(staging, "validate-manifests.mjs"), script);
        Result npm = await RunAsync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], staging, TimeSpan.FromMinutes(5), missing: "npm");
        Assert.True(npm.ExitCode == 0, $"npm install of the schema validator failed (it needs the npm registry): {npm.Output.Trim()}");
        try
        {
            Directory.Move(staging, directory);
        }
        catch (IOException) when (Directory.Exists(directory))
        {
            Directory.Delete(staging, recursive: true); // another process finished first
        }

        return installedScript;
    }

    private static async Task<Result> RunAsync(string tool, IEnumerable<string> args, string workingDirectory, TimeSpan limit, string? missing = null)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail($"{missing ?? tool} is not installed; the Kubernetes manifest tests need node and npm: {Setup}");
            throw;
        }

        using (process)
        {
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(limit);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{tool} {string.Join(' ', start.ArgumentList)} did not finish within {limit}: {output}");
            }

            await process.WaitForExitAsync(); // the last lines of output
            lock (output)
                return new Result(process.ExitCode, output.ToString());
        }
    }
}
