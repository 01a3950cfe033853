using System.Collections.Concurrent;
using System.Net;
using Actors.Client.Tests.Telemetry.Otlp;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Actors.Client.Tests.Telemetry;

/// <summary>
/// An OTLP/HTTP endpoint on loopback that keeps the spans processes export to it, as a collector would receive
/// them: give a process <see cref="Environment"/> and its OpenTelemetry exporter sends here. Metrics and logs are
/// accepted and dropped.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    private OtlpReceiver(WebApplication web) => _web = web;

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The variables that point a process's OTLP exporter here, over HTTP and protobuf, exporting spans within a fifth of a second.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    public static async Task<OtlpReceiver> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        WebApplication web = builder.Build();
        var receiver = new OtlpReceiver(web);
        web.MapPost("/v1/traces", receiver.ReceiveTracesAsync);
        web.MapPost("/v1/metrics", () => Results.Ok());
        web.MapPost("/v1/logs", () => Results.Ok());
        await web.StartAsync();
        string address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Endpoint = new Uri(address);
        return receiver;
    }

    private async Task<IResult> ReceiveTracesAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        ExportTraceServiceRequest export = ExportTraceServiceRequest.Parser.ParseFrom(body.ToArray());
        foreach (ResourceSpans resource in export.ResourceSpans)
        {
            Dictionary<string, string> process = Attributes(resource.Resource?.Attributes);
            foreach (ScopeSpans scope in resource.ScopeSpans)
            {
                foreach (Span span in scope.Spans)
                {
                    _spans.Enqueue(new ReceivedSpan(
                        process.GetValueOrDefault("service.name", "?"),
                        process.GetValueOrDefault("service.instance.id"),
                        scope.Scope?.Name ?? "?",
                        Convert.ToHexStringLower(span.TraceId.Span),
                        Convert.ToHexStringLower(span.SpanId.Span),
                        span.ParentSpanId.IsEmpty ? null : Convert.ToHexStringLower(span.ParentSpanId.Span),
                        span.Name,
                        span.Kind,
                        Attributes(span.Attributes)));
                }
            }
        }

        return Results.Bytes(new ExportTraceServiceResponse().ToByteArray(), "application/x-protobuf");
    }

    private static Dictionary<string, string> Attributes(IEnumerable<KeyValue>? attributes) =>
        (attributes ?? []).ToDictionary(a => a.Key, a => a.Value?.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => a.Value.StringValue,
            AnyValue.ValueOneofCase.IntValue => a.Value.IntValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.BoolValue => a.Value.BoolValue ? "true" : "false",
            AnyValue.ValueOneofCase.DoubleValue => a.Value.DoubleValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => string.Empty,
        });

    public async ValueTask DisposeAsync()
    {
        await _web.StopAsync();
        await _web.DisposeAsync();
    }
}
