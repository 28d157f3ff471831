"""The Streamlit app shell: entry script, shared UI helpers, cached loaders and figure builders."""
