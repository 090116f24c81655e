// Reference client for heidi-tray's local API (docs/ipc.md) in C# (.NET 6+), for EMRs on
// Windows (named pipe) and macOS/Linux (Unix socket). It mirrors examples/python/heidi_tray.py,
// which CI runs against the real tray; this file is NOT compiled or run in CI (no .NET SDK on the
// Debian build machines) — treat it as a careful sketch and test it in your own build.
//
// The loop that files every note exactly once: FollowAsync. File each note idempotently by its
// id (a unique key in the EMR's database), acknowledge it only after the filing committed, and
// keep the cursor (the last seq) only after the acknowledgement.
using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipes;
using System.Net.Http;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Principal;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;

namespace HeidiTray
{
    public sealed class TrayException : Exception
    {
        static readonly HashSet<string> RetryableCodes = new() {
            "rate_limited", "heidi_unavailable", "heidi_bad_response", "timeout", "shutting_down", "keychain_unavailable",
            "token_unavailable" };
        public int Status { get; }
        public string Code { get; }
        public bool Retryable => RetryableCodes.Contains(Code);
        public TrayException(int status, string code, string message) : base($"{code}: {message}") { Status = status; Code = code; }
    }

    public sealed record Patient(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("dob")] string? Dob = null,
        [property: JsonPropertyName("gender")] string? Gender = null);

    public sealed record OpenRequest(
        [property: JsonPropertyName("email")] string Email,
        [property: JsonPropertyName("user_id")] string UserId, // always a string, even when the EMR's id is a number
        [property: JsonPropertyName("region")] string? Region = null,
        [property: JsonPropertyName("patient")] Patient? Patient = null,
        [property: JsonPropertyName("encounter_id")] string? EncounterId = null,
        [property: JsonPropertyName("context")] string? Context = null);

    public sealed class Note
    {
        [JsonPropertyName("id")] public string Id { get; set; } = "";
        [JsonPropertyName("seq")] public ulong Seq { get; set; }
        [JsonPropertyName("launch_id")] public string LaunchId { get; set; } = "";
        [JsonPropertyName("patient_id")] public string PatientId { get; set; } = "";
        [JsonPropertyName("patient_name")] public string? PatientName { get; set; }
        [JsonPropertyName("patient_dob")] public string? PatientDob { get; set; }
        [JsonPropertyName("encounter_id")] public string? EncounterId { get; set; }
        [JsonPropertyName("warning")] public string? Warning { get; set; }
        [JsonPropertyName("text")] public string Text { get; set; } = "";
    }

    public sealed class Client
    {
        readonly HttpClient http;
        static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

        public Client(string? endpoint = null)
        {
            endpoint ??= DefaultEndpoint();
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (ctx, ct) =>
                {
                    if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                    {
                        var pipe = new NamedPipeClientStream(".", endpoint, PipeDirection.InOut, PipeOptions.Asynchronous);
                        await pipe.ConnectAsync(2000, ct);
                        return pipe;
                    }
                    var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(endpoint), ct);
                    return new NetworkStream(s, ownsSocket: true);
                },
            };
            // The host is a placeholder; the handler dials the endpoint.
            http = new HttpClient(handler) { BaseAddress = new Uri("http://heidi-tray"), Timeout = Timeout.InfiniteTimeSpan };
        }

        // Windows: the pipe name without \\.\pipe\ (heidi-tray status --json shows the endpoint).
        public static string DefaultEndpoint()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                var sid = WindowsIdentity.GetCurrent().User!.Value;
                var session = System.Diagnostics.Process.GetCurrentProcess().SessionId;
                return $"heidi-tray-{sid}-{session}";
            }
            var run = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(run)) return Path.Combine(run, "heidi-tray", "ipc.sock");
            var tmp = RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? Path.GetTempPath() : "/tmp";
            return Path.Combine(tmp, $"heidi-tray-{getuid()}", "ipc.sock");
        }

        [DllImport("libc")] static extern uint getuid();

        async Task<T> Send<T>(HttpMethod method, string path, object? body, CancellationToken ct)
        {
            using var req = new HttpRequestMessage(method, path);
            if (body != null) req.Content = JsonContent.Create(body, body.GetType(), options: Json);
            using var resp = await http.SendAsync(req, ct);
            var text = await resp.Content.ReadAsStringAsync(ct);
            if (!resp.IsSuccessStatusCode)
            {
                var err = JsonDocument.Parse(text).RootElement.GetProperty("error");
                throw new TrayException((int)resp.StatusCode, err.GetProperty("code").GetString()!, err.GetProperty("message").GetString()!);
            }
            return JsonSerializer.Deserialize<T>(text, Json)!;
        }

        public Task<JsonElement> StatusAsync(CancellationToken ct = default) => Send<JsonElement>(HttpMethod.Get, "/v1/status", null, ct);
        public Task<JsonElement> OpenAsync(OpenRequest r, CancellationToken ct = default) => Send<JsonElement>(HttpMethod.Post, "/v1/open", r, ct);
        public Task<JsonElement> WindowAsync(CancellationToken ct = default) => Send<JsonElement>(HttpMethod.Get, "/v1/window", null, ct);

        public async Task<List<Note>> PendingNotesAsync(ulong after = 0, CancellationToken ct = default)
        {
            var page = await Send<JsonElement>(HttpMethod.Get, $"/v1/notes?after={after}", null, ct);
            return page.GetProperty("notes").Deserialize<List<Note>>(Json)!;
        }

        public Task<JsonElement> ClaimAsync(string id, string owner, int leaseSeconds = 60, CancellationToken ct = default) =>
            Send<JsonElement>(HttpMethod.Post, $"/v1/notes/{Uri.EscapeDataString(id)}/claim", new { owner, lease_seconds = leaseSeconds }, ct);

        public Task<JsonElement> AckAsync(string id, string? owner = null, CancellationToken ct = default) =>
            Send<JsonElement>(HttpMethod.Post, $"/v1/notes/{Uri.EscapeDataString(id)}/ack", owner == null ? new { } : new { owner }, ct);

        // Yields events until the stream ends; after = a seq replays pending notes first.
        public async IAsyncEnumerable<JsonElement> EventsAsync(ulong? after, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
        {
            var path = "/v1/events" + (after.HasValue ? $"?after={after}" : "");
            using var resp = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
            resp.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await resp.Content.ReadAsStreamAsync(ct));
            while (true)
            {
                // A heartbeat comes every 15 s: 45 s of silence means the stream is dead.
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
                quiet.CancelAfter(TimeSpan.FromSeconds(45));
                string? line;
                try { line = await reader.ReadLineAsync(quiet.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { throw new TimeoutException("no heartbeat for 45 s"); }
                if (line == null) yield break;
                if (line.Length > 0) yield return JsonDocument.Parse(line).RootElement.Clone();
            }
        }

        // file(note) must be idempotent by note.Id (a unique key), compare the note's patient with the
        // chart, and return once committed. setAside(note) hands a note to a person: one with a Warning
        // or no patient is never filed automatically (it stays unacknowledged).
        public async Task FollowAsync(Func<Note, Task> file, Func<Note, Task> setAside, Func<ulong> loadCursor, Action<ulong> saveCursor, string owner, CancellationToken ct)
        {
            var delay = TimeSpan.FromMilliseconds(200);
            var asideIds = new HashSet<string>(); // set aside once, not at every reconnect
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var cursor = loadCursor();
                    async Task Handle(Note n)
                    {
                        if (asideIds.Contains(n.Id)) return;
                        try { await ClaimAsync(n.Id, owner, 60, ct); }
                        catch (TrayException e) when (e.Code == "claimed" || e.Code == "not_found") { return; }
                        if (!string.IsNullOrEmpty(n.Warning) || string.IsNullOrEmpty(n.PatientId)) { await setAside(n); asideIds.Add(n.Id); }
                        else
                        {
                            await file(n);
                            try { await AckAsync(n.Id, owner, ct); }
                            catch (TrayException e) when (e.Code == "not_found") { }
                        }
                        if (n.Seq > cursor) { cursor = n.Seq; saveCursor(cursor); }
                    }
                    // Every pending note, page by page (the next page starts after the last note received).
                    for (ulong after = 0; ;)
                    {
                        var page = await PendingNotesAsync(after, ct);
                        foreach (var n in page) await Handle(n);
                        if (page.Count < 500) break;
                        after = page[^1].Seq;
                    }
                    await foreach (var ev in EventsAsync(cursor, ct))
                    {
                        delay = TimeSpan.FromMilliseconds(200);
                        var type = ev.GetProperty("type").GetString();
                        if (type == "note") await Handle(ev.GetProperty("note").Deserialize<Note>(Json)!);
                        else if (type == "dropped" || type == "shutdown") break; // reconnect from the cursor
                    }
                }
                catch (Exception e) when (e is HttpRequestException || e is IOException || e is SocketException || e is TimeoutException)
                {
                    await Task.Delay(delay, ct); // the tray is not running (yet)
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                }
                catch (TrayException e)
                {
                    await Task.Delay(e.Retryable ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5), ct);
                }
            }
        }
    }
}
